// Pre-filling a topic with generated events (as the producer would encode them) and the matching COPY rows file.

import { createWriteStream } from "node:fs";
import { packRecords } from "../../src/adapters/bus/kafka/messages.ts";
import { tsvectorText } from "../../src/adapters/store/postgres/tsv.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { DEFAULT_RECORD_EVENTS } from "../../src/domain/wire.ts";
import { type GenOptions, generate } from "./data.ts";
import { phase } from "./progress.ts";
import { kafka } from "./services.ts";

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

/** One field in COPY text format (what psql \copy reads): backslash, tab, newline and CR escaped; null is \N. */
const copyField = (value: string | number | null): string =>
  value === null
    ? "\\N"
    : typeof value === "number"
      ? String(value)
      : value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] ?? c);

const copyLine = (fields: (string | number | null)[]): string => `${fields.map(copyField).join("\t")}\n`;

/** The columns of log_events a COPY of the rows file fills (same order as rowLine). */
export const ROW_COLUMNS =
  "ts, id, seq, level, source, message, metadata, tsv, created_at, kafka_partition, kafka_offset";

/** One log_events row in COPY text format, with the same content the consumer stores. */
export const rowLine = (e: LogEvent, seq: number, createdAt: string): string =>
  copyLine([
    new Date(e.timestamp).toISOString(),
    e.id,
    seq,
    e.level,
    e.source,
    e.message,
    e.metadata === null ? null : JSON.stringify(e.metadata),
    tsvectorText(e.message),
    createdAt,
    seq % 6,
    Math.floor(seq / 6),
  ]);

export interface FillOptions extends GenOptions {
  topic?: string;
  /** Also write the rows to this TSV file (COPY text format). */
  rowsFile?: string;
  /** Called per generated chunk (e.g. to keep events for a later step). */
  onChunk?: (events: LogEvent[]) => void;
  label: string;
}

export interface Filled {
  count: number;
  bytes: number;
  first: number;
  last: number;
}

/** Streams generated events to a topic (keyed by source, acks=all) and/or a rows file, chunk by chunk. */
export const fill = async (o: FillOptions): Promise<Filled> => {
  const producer = o.topic ? kafka().producer({ allowAutoTopicCreation: false }) : undefined;
  await producer?.connect();
  const out = o.rowsFile ? createWriteStream(o.rowsFile) : undefined;
  const p = phase(o.label, o.count, "events");
  const createdAt = new Date().toISOString();
  const inflight = new Set<Promise<unknown>>();
  let chunk: LogEvent[] = [];
  let n = 0;
  let bytes = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let failure: unknown;
  const flush = async () => {
    const events = chunk;
    chunk = [];
    if (!events.length) return;
    o.onChunk?.(events);
    if (producer && o.topic) {
      // The records the producer role writes: each source's events packed, as many per record as it packs.
      const messages = packRecords(events, DEFAULT_RECORD_EVENTS);
      for (const m of messages) bytes += Buffer.byteLength(m.value as string);
      const sent: Promise<unknown> = producer
        .send({ topic: o.topic, acks: -1, messages })
        .then(() => p.tick(events.length))
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => inflight.delete(sent));
      inflight.add(sent);
      if (inflight.size >= 4) await Promise.race(inflight);
      if (failure) throw failure;
    } else p.tick(events.length);
    if (out) {
      const base = n - events.length;
      let text = "";
      events.forEach((e, i) => {
        text += rowLine(e, base + i + 1, createdAt);
      });
      if (!out.write(text)) await new Promise((r) => out.once("drain", r));
    }
  };
  try {
    for (const e of generate(o)) {
      n++;
      first = Math.min(first, e.timestamp);
      last = Math.max(last, e.timestamp);
      chunk.push(e);
      if (chunk.length >= 2000) await flush();
    }
    await flush();
    await Promise.all(inflight);
    if (failure) throw failure;
  } finally {
    await producer?.disconnect();
    if (out) await new Promise<void>((r) => out.end(r));
    p.done();
  }
  return { count: n, bytes, first, last };
};
