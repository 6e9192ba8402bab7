// Small helpers over protobufjs's wire Reader, shared by the OTLP and Loki decoders.

import { Reader } from "protobufjs/minimal.js";
import { DomainError } from "../../domain/errors.ts";

export { Reader };

/** Strings shorter than this are interned per body: attribute keys and many values repeat on every record. */
const SHORT = 32;
const MAX_INTERNED = 4096;

/**
 * A protobufjs Reader with the body's table of short ASCII strings (hash → [offset, length, text]), and the
 * body as a Buffer: Buffer#toString decodes a range in one native call, twice as fast as a TextDecoder over a
 * subarray, with the same U+FFFD for invalid UTF-8.
 */
export type WireReader = Reader & { interned: Map<number, [number, number, string]>; text: Buffer };

export const readerOf = (bytes: Uint8Array): WireReader =>
  Object.assign(Reader.create(bytes), {
    interned: new Map<number, [number, number, string]>(),
    text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  });

const sameBytes = (buf: Uint8Array, a: number, b: number, length: number): boolean => {
  for (let i = 0; i < length; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
};

/**
 * A string field. A short ASCII one seen before in this body is the same string object again (no decode, no
 * allocation); others are decoded natively (invalid UTF-8 becomes U+FFFD, as protobufjs does).
 */
export const readString = (r: WireReader): string => {
  const length = r.uint32();
  const start = r.pos;
  const end = start + length;
  if (end > r.len) throw new RangeError(`index out of range: ${start} + ${length} > ${r.len}`);
  r.pos = end;
  if (length >= SHORT) return r.text.toString("utf8", start, end);
  const buf = r.buf;
  let hash = length;
  for (let i = start; i < end; i++) {
    const byte = buf[i] ?? 0;
    if (byte >= 0x80) return r.text.toString("utf8", start, end);
    hash = (Math.imul(hash, 31) + byte) | 0;
  }
  const seen = r.interned.get(hash);
  if (seen && seen[1] === length && sameBytes(buf, seen[0], start, length)) return seen[2];
  // ASCII only (checked above): latin1 decodes it as UTF-8 would, natively (a third of fromCharCode's cost).
  const text = r.text.toString("latin1", start, end);
  if (r.interned.size < MAX_INTERNED) r.interned.set(hash, [start, length, text]);
  return text;
};

/** Calls onField(fieldNumber, wireType) for every field up to `end`; onField must read or skip the value. */
export const eachField = (
  r: Reader,
  end: number,
  onField: (field: number, wireType: number) => void,
): void => {
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 0) throw new RangeError("field number 0");
    onField(field, tag & 7);
  }
  if (r.pos !== end) throw new RangeError("a field runs past its message");
};

/**
 * The next field's tag before `end`, or -1 once the reader stands at `end`: for decoders that loop over a
 * message's fields without a callback per field (what eachField costs per message on hot paths).
 */
export const nextTag = (r: Reader, end: number): number => {
  if (r.pos >= end) {
    if (r.pos !== end) throw new RangeError("a field runs past its message");
    return -1;
  }
  const tag = r.uint32();
  if (tag >>> 3 === 0) throw new RangeError("field number 0");
  return tag;
};

/** The end position of the length-delimited value at the reader (which then stands at its first byte). */
export const messageEnd = (r: Reader): number => {
  const length = r.uint32();
  const end = r.pos + length;
  if (end > r.len) throw new RangeError("a message runs past the body");
  return end;
};

/** fixed64 nanoseconds since the epoch → whole milliseconds, read as two 32-bit halves (no Long needed). */
export const fixed64NanosToMs = (r: Reader): number => {
  const low = r.fixed32();
  const high = r.fixed32();
  return Math.floor((high * 4294967296 + low) / 1e6);
};

/**
 * An int64 as a JS number when exact, else as its decimal text (what OTLP JSON does for every int64). Varints
 * of up to 7 bytes (< 2^49) are read here; longer ones (large or negative) through protobufjs's Long path.
 */
export const int64Value = (r: Reader): number | string => {
  const start = r.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 7 && r.pos < r.len; i++) {
    const byte = r.buf[r.pos++] ?? 0;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
  r.pos = start;
  const text = String(r.int64());
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
};

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export const hexOf = (bytes: Uint8Array): string => {
  let out = "";
  for (const b of bytes) out += HEX[b];
  return out;
};

/** Runs a decoder, turning what a truncated or corrupt body makes protobufjs throw into a 400. */
export const decodeOrRefuse = <T>(what: string, decode: () => T): T => {
  try {
    return decode();
  } catch (error) {
    if (error instanceof DomainError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new DomainError("validation_failed", `the request body is not a valid ${what}: ${reason}`, {
      details: [{ field: "body", message: `is not a valid ${what}` }],
    });
  }
};
