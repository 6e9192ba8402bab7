// Rows for the write path: each event checked and encoded as COPY text once, ahead of the transaction.

import { UnstorableError } from "../../../domain/errors.ts";
import { findUnstorable, unstorableReason } from "../../../domain/text.ts";
import { MAX_TIME_MS, MIN_TIME_MS } from "../../../domain/time.ts";
import type { SourcedEvent } from "../../../ports/log-store.ts";
import { type ChunkSource, copyText } from "./copy.ts";
import { tsvectorText } from "./tsv.ts";

// Native checks first: the regexes of unstorableReason run only for a value that fails them.
const storable = (value: string): boolean => !value.includes("\u0000") && value.isWellFormed();

/** An event ready for the COPY: its claim key and time, and its row text after the seq and created_at fields. */
export interface Encoded {
  id: string;
  ts: string;
  tail: string;
}

/**
 * Refuses what PostgreSQL would refuse inside the COPY, before it starts (postgres.js reports a refused COPY
 * only through our hook in copy.ts; a lone surrogate would silently become U+FFFD), and encodes the row.
 * JSON.stringify writes NUL and lone surrogates in metadata as \u escapes, which jsonb refuses.
 */
export const encode = ({ event: e, partition, offset }: SourcedEvent): Encoded => {
  const where = () => `event ${JSON.stringify(e.id)} at ${partition}/${offset}`;
  if (!(storable(e.id) && storable(e.source) && storable(e.level) && storable(e.message))) {
    const reason =
      unstorableReason(e.id) ??
      unstorableReason(e.source) ??
      unstorableReason(e.level) ??
      unstorableReason(e.message);
    if (reason) throw new UnstorableError(`${where()}: ${reason}`);
  }
  if (!(Number.isSafeInteger(e.timestamp) && e.timestamp >= MIN_TIME_MS && e.timestamp <= MAX_TIME_MS))
    throw new UnstorableError(`${where()}: timestamp ${e.timestamp} is outside years 1970..9999`);
  let metadata = "\\N";
  if (e.metadata !== null) {
    const json = JSON.stringify(e.metadata);
    if (json.includes("\\u")) {
      const bad = findUnstorable(e.metadata);
      if (bad) throw new UnstorableError(`${where()}: metadata${bad.path} ${bad.reason}`);
    }
    metadata = copyText(json);
  }
  const ts = new Date(e.timestamp).toISOString();
  const tail = `\t${ts}\t${copyText(e.id)}\t${copyText(e.level)}\t${copyText(e.source)}\t${copyText(
    e.message,
  )}\t${metadata}\t${tsvectorText(e.message)}\t${partition}\t${copyText(offset)}\n`;
  // Reading a character makes the engine flatten the template's pieces into one string now: a COPY chunk
  // made of thousands of unflattened rows costs several times more to encode as UTF-8.
  tail.charCodeAt(0);
  return { id: e.id, ts, tail };
};

/** Bytes of one COPY chunk: large enough to keep the socket busy, small enough to write without a pause. */
const CHUNK_BYTES = 256 * 1024;
/** The most UTF-8 bytes a string of n UTF-16 code units can take. */
const utf8Bound = (n: number): number => n * 3;

/**
 * COPY text of the fresh rows, in batch order with seq from `base + 1`, one chunk at a time. Each row is
 * written as UTF-8 straight into the chunk's buffer: a chunk built as one long string cost a flattening of
 * hundreds of rows and then a UTF-8 copy of it in the stream (~6 µs a row, most of the COPY's client time).
 */
export const encoder = (rows: Encoded[], base: number, createdAt: string): ChunkSource => {
  let i = 0;
  return () => {
    if (i >= rows.length) return undefined;
    let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let at = 0;
    while (i < rows.length) {
      const head = `${base + i + 1}\t${createdAt}`;
      const tail = (rows[i] as Encoded).tail;
      const most = utf8Bound(head.length + tail.length);
      if (at + most > chunk.length) {
        if (at > 0) break;
        chunk = Buffer.allocUnsafe(most); // one row larger than a chunk: a chunk of its own
      }
      at += chunk.write(head, at, "latin1");
      at += chunk.write(tail, at, "utf8");
      i++;
    }
    return chunk.subarray(0, at);
  };
};
