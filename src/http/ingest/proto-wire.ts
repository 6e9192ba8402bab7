// Small helpers over protobufjs's wire Reader, shared by the OTLP and Loki decoders.

import { Reader } from "protobufjs/minimal.js";
import { DomainError } from "../../domain/errors.ts";

export { Reader };

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

/** An int64 as a JS number when exact, else as its decimal text (what OTLP JSON does for every int64). */
export const int64Value = (r: Reader): number | string => {
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
