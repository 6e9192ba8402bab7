// A message's tsvector in PostgreSQL's binary form for the write path's COPY: the same lexemes and positions
// as tsvectorText, tokenized without a string per token for the usual message.

import { put32 } from "./copy.ts";
import { fill, isAsciiWordChar, MAX_LEXEME_CHARS, MAX_POSITIONS, TsvBuilder } from "./tsv.ts";

/** The builder for the other messages, reused row after row. */
const shared = new TsvBuilder();

/**
 * The usual message, ASCII with at most MAX_POSITIONS tokens, tokenized without a string per token: each
 * token is a range of the message, told apart from the others by a hash of its lower-cased characters in an
 * open-addressed table, its positions linked through `nextPosition`. Lexemes go out in first-seen order, as
 * tsvector_recv sorts them itself. Tokenizing this way costs a third of a map of strings.
 */
const FAST_TABLE = 1024;
const fastTable = new Int32Array(FAST_TABLE);
const fastStart = new Int32Array(MAX_POSITIONS);
const fastLength = new Int32Array(MAX_POSITIONS);
const fastHead = new Int32Array(MAX_POSITIONS);
const fastTail = new Int32Array(MAX_POSITIONS);
const fastCount = new Int32Array(MAX_POSITIONS);
const fastUsed = new Int32Array(MAX_POSITIONS);
const nextPosition = new Int32Array(MAX_POSITIONS + 1);
let fastMessage = "";
let fastSlots = 0;
/** Whether the prepared message took the fast form; otherwise `shared` holds it. */
let fastPrepared = false;
let preparedAscii = false;

const lower = (c: number): number => (c >= 65 && c <= 90 ? c + 32 : c);

const sameLower = (m: string, a: number, b: number, n: number): boolean => {
  for (let j = 0; j < n; j++) if (lower(m.charCodeAt(a + j)) !== lower(m.charCodeAt(b + j))) return false;
  return true;
};

/** Fills the fast form for an ASCII message of few tokens; the bound of its binary form, or -1 when it does not apply. */
const prepareFast = (m: string): number => {
  for (let s = 0; s < fastSlots; s++) fastTable[fastUsed[s] as number] = 0;
  fastSlots = 0;
  fastMessage = m;
  let bytes = 4;
  let position = 0;
  const n = m.length;
  let i = 0;
  while (i < n) {
    let c = m.charCodeAt(i);
    if (c >= 128) return -1;
    if (!isAsciiWordChar(c)) {
      i++;
      continue;
    }
    if (++position > MAX_POSITIONS) return -1;
    const start = i;
    let h = 0;
    do {
      if (i - start < MAX_LEXEME_CHARS) h = (Math.imul(h, 31) + lower(c)) | 0;
      c = ++i < n ? m.charCodeAt(i) : 0;
    } while (i < n && isAsciiWordChar(c));
    const length = Math.min(i - start, MAX_LEXEME_CHARS);
    for (let k = h & (FAST_TABLE - 1); ; k = (k + 1) & (FAST_TABLE - 1)) {
      const entry = fastTable[k] as number;
      if (entry === 0) {
        const slot = fastSlots++;
        fastTable[k] = slot + 1;
        fastUsed[slot] = k;
        fastStart[slot] = start;
        fastLength[slot] = length;
        fastHead[slot] = position;
        fastTail[slot] = position;
        fastCount[slot] = 1;
        nextPosition[position] = 0;
        bytes += length + 5;
        break;
      }
      const slot = entry - 1;
      if (fastLength[slot] === length && sameLower(m, fastStart[slot] as number, start, length)) {
        nextPosition[fastTail[slot] as number] = position;
        nextPosition[position] = 0;
        fastTail[slot] = position;
        fastCount[slot] = (fastCount[slot] as number) + 1;
        bytes += 2;
        break;
      }
    }
  }
  return bytes;
};

const writeFast = (out: Buffer, at: number): number => {
  const start = at;
  const m = fastMessage;
  const n = fastSlots;
  put32(out, at, n);
  at += 4;
  for (let s = 0; s < n; s++) {
    const from = fastStart[s] as number;
    const to = from + (fastLength[s] as number);
    for (let j = from; j < to; j++) out[at++] = lower(m.charCodeAt(j));
    out[at++] = 0;
    const count = fastCount[s] as number;
    out[at++] = count >>> 8;
    out[at++] = count;
    for (let p = fastHead[s] as number; p !== 0; p = nextPosition[p] as number) {
      out[at++] = p >>> 8;
      out[at++] = p;
    }
  }
  return at - start;
};

/**
 * Tokenizes a message for writeTsvector (the lexemes and positions of tsvectorText) and returns the most
 * bytes its binary form takes. One message at a time: the next call replaces it.
 */
export const prepareTsvector = (message: string): number => {
  const fast = prepareFast(message);
  fastPrepared = fast >= 0;
  if (fastPrepared) return fast;
  preparedAscii = fill(shared.reset(), message);
  return shared.binaryBound();
};

/** Writes the prepared message's tsvector in binary form at `at`; returns the bytes written. */
export const writeTsvector = (out: Buffer, at: number): number =>
  fastPrepared ? writeFast(out, at) : shared.binary(out, at, preparedAscii);
