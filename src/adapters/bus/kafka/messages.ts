// Kafka message helpers: bus records from kafkajs messages, dead-letter messages, size-bounded chunks.

import type { KafkaMessage, Message } from "kafkajs";
import type { BusRecord, DeadLetter } from "../../../ports/log-bus.ts";

// Per-message framing in a record batch stays well under this; being generous keeps chunks below the limit.
const MESSAGE_OVERHEAD_BYTES = 64;
const MAX_ERROR_HEADER_CHARS = 2000;

export const toBusRecord = (partition: number, m: KafkaMessage): BusRecord => ({
  partition,
  offset: m.offset,
  key: m.key === null ? null : m.key.toString("utf8"),
  value: m.value,
  timestamp: Number(m.timestamp),
});

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
