// Finds the top-level elements of a JSON array in UTF-8 bytes without parsing them: a cheap structural scan.
//
// Only strings and bracket depth are tracked (every byte JSON gives a structure meaning is ASCII, and no
// byte of a multi-byte UTF-8 sequence is). Whatever else is wrong inside an element is left to JSON.parse.

import type { TimeSlicer } from "../services/time-slices.ts";
import { malformed } from "./body.ts";

export interface ElementSpan {
  /** Offset of the element's first byte. */
  start: number;
  /** Offset just past its last byte (blanks around it excluded). */
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const isBlank = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

const skipBlanks = (b: Uint8Array, at: number): number => {
  let i = at;
  while (i < b.length && isBlank(b[i])) i++;
  return i;
};

/** Offset just past the string whose opening quote is at `at`; -1 when it never closes. */
const skipString = (b: Uint8Array, at: number): number => {
  for (let from = at + 1; ; ) {
    const quote = b.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let k = quote - 1; b[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
};

/** Offset of the comma or closing bracket that ends the element starting at `at`, at depth 0. */
const elementEnd = (b: Uint8Array, at: number): number => {
  let depth = 0;
  for (let i = at; i < b.length; ) {
    const byte = b[i];
    if (byte === QUOTE) {
      i = skipString(b, i);
      if (i < 0) break;
      continue;
    }
    if (depth === 0 && (byte === COMMA || byte === CLOSE_ARRAY)) return i;
    if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) depth++;
    else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth--;
    i++;
  }
  throw malformed("is not valid JSON: the array is not closed");
};

/** Offset of the first non-blank byte, past a byte order mark. */
export const firstByte = (b: Uint8Array): number =>
  skipBlanks(b, b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0);

/**
 * The spans of the elements of the array that the body holds, in order, as they are found. The body must
 * start with `[` (after blanks). Pauses when the slicer says the slice is spent.
 */
export async function* jsonArrayElements(b: Uint8Array, slicer: TimeSlicer): AsyncGenerator<ElementSpan> {
  const open = firstByte(b);
  if (b[open] !== OPEN_ARRAY) throw malformed("is not a JSON array");
  let at = skipBlanks(b, open + 1);
  if (b[at] !== CLOSE_ARRAY)
    for (;;) {
      const stop = elementEnd(b, at);
      let end = stop;
      while (end > at && isBlank(b[end - 1])) end--;
      if (end === at) throw malformed("is not valid JSON: an array element is missing");
      yield { start: at, end };
      if (slicer.due()) await slicer.pause();
      at = skipBlanks(b, stop + 1);
      if (b[stop] === CLOSE_ARRAY) break;
    }
  else at = skipBlanks(b, at + 1);
  if (at < b.length) throw malformed("is not valid JSON: unexpected data after the array");
}
