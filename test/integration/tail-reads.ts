// A LogReader that records every tail() call and passes everything to a real store underneath.

import type { TailQuery } from "../../src/domain/query.ts";
import type { LogReader } from "../../src/ports/log-store.ts";

export interface TailRead extends TailQuery {
  at: number;
}

export const recordingReader = (inner: LogReader) => {
  const reads: TailRead[] = [];
  const reader: LogReader = {
    start: () => inner.start(),
    stop: () => inner.stop(),
    page: (q) => inner.page(q),
    search: (q) => inner.search(q),
    stats: (q) => inner.stats(q),
    findById: (id) => inner.findById(id),
    tail: (q) => {
      reads.push({ ...q, at: Date.now() });
      return inner.tail(q);
    },
    watermark: () => inner.watermark(),
    health: () => inner.health(),
  };
  return { reader, reads };
};
