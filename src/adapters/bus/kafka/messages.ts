// Kafka message helpers: packed records, bus records from kafkajs messages, dead letters, size-bounded chunks.

import type { KafkaMessage, Message } from "kafkajs";
import type { LogEvent } from "../../../domain/log-event.ts";
import { encodeEvent, encodeRecord } from "../../../domain/wire.ts";
import type { BusRecord, DeadLetter } from "../../../ports/log-bus.ts";

// Per-message framing in a record batch stays well under this; being generous keeps chunks below the limit.
const MESSAGE_OVERHEAD_BYTES = 64;
const MAX_ERROR_HEADER_CHARS = 2000;

/** Most value bytes in one packed record: a quarter of a request, so several sources share one. */
export const MAX_RECORD_BYTES = 225_000;

/** The header that says how many events a packed record holds (absent: one). */
export const EVENTS_HEADER = "events";

/** The events header's count when it is a plain count within bounds; anything else counts as one. */
const eventsOf = (m: KafkaMessage): number | undefined => {
  const header = m.headers?.[EVENTS_HEADER];
  if (header === undefined || Array.isArray(header)) return undefined;
  const n = Number(header.toString());
  return Number.isInteger(n) && n > 1 && n <= 100_000 ? n : undefined;
};

export const toBusRecord = (partition: number, m: KafkaMessage): BusRecord => {
  const events = eventsOf(m);
  const record: BusRecord = {
    partition,
    offset: m.offset,
    key: m.key === null ? null : m.key.toString("utf8"),
    value: m.value,
    timestamp: Number(m.timestamp),
  };
  if (events !== undefined) record.events = events;
  return record;
};

const asBuffer = (value: Uint8Array): Buffer =>
  Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);

/** The original bytes, untouched, with where they came from and why they were refused in headers. */
export const deadLetterMessage = (letter: DeadLetter, failedAt: string): Message => ({
  key: letter.record.key,
  value: letter.record.value === null ? null : asBuffer(letter.record.value),
  headers: {
    "x-error": letter.error.slice(0, MAX_ERROR_HEADER_CHARS),
    "x-reason": letter.reason,
    "x-original-topic": letter.topic,
    "x-original-partition": String(letter.record.partition),
    "x-original-offset": letter.record.offset,
    "x-failed-at": failedAt,
  },
});

export const messageSize = (m: Message): number => {
  const sizeOf = (v: Buffer | string | null | undefined) =>
    v === null || v === undefined ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.byteLength;
  let headers = 0;
  for (const [k, v] of Object.entries(m.headers ?? {}))
    headers += k.length + (typeof v === "string" || Buffer.isBuffer(v) ? sizeOf(v) : 0);
  return sizeOf(m.key) + sizeOf(m.value) + headers + MESSAGE_OVERHEAD_BYTES;
};

/**
 * Events as Kafka records: each source's events in order, up to maxEvents and MAX_RECORD_BYTES per record,
 * keyed by the source (see encodeRecord). Fewer records cost kafkajs, the broker and the consumer less per
 * event: a record's framing, CRC and bookkeeping are paid once for all of its events.
 */
export const packRecords = (events: readonly LogEvent[], maxEvents: number): Message[] => {
  const bySource = new Map<string, { texts: string[]; bytes: number }[]>();
  const messages: Message[] = [];
  for (const event of events) {
    const text = encodeEvent(event);
    const bytes = Buffer.byteLength(text);
    let records = bySource.get(event.source);
    if (!records) {
      records = [];
      bySource.set(event.source, records);
    }
    const open = records[records.length - 1];
    if (open && open.texts.length < maxEvents && open.bytes + bytes + 1 <= MAX_RECORD_BYTES) {
      open.texts.push(text);
      open.bytes += bytes + 1;
    } else records.push({ texts: [text], bytes: bytes + 2 });
  }
  for (const [source, records] of bySource)
    for (const { texts } of records)
      messages.push(
        texts.length === 1
          ? { key: source, value: texts[0] as string }
          : { key: source, value: encodeRecord(texts), headers: { [EVENTS_HEADER]: String(texts.length) } },
      );
  return messages;
};

/** Most encoded bytes in one produce request the adapters send (under Kafka's default 1 MB message.max.bytes). */
export const MAX_REQUEST_BYTES = 900_000;

/**
 * Splits messages so that no request exceeds maxBytes. The broker refuses a record batch over
 * message.max.bytes (~1 MB by default) and one request carries one batch per partition.
 */
export const chunkBySize = (messages: Message[], maxBytes: number, sizeOf = messageSize): Message[][] => {
  const chunks: Message[][] = [];
  let chunk: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sizeOf(message);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
};
