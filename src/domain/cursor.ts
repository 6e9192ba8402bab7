// The keyset cursor: one opaque token that pages back in event time (ts, id) and tails forward in arrival order (seq).

import { codePointLength } from "./text.ts";

export interface Cursor {
  /** Event time of the last item seen, epoch ms. */
  ts: number;
  id: string;
  /** Arrival sequence of that item. */
  seq: number;
}

export const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify([c.ts, c.seq, c.id]), "utf8").toString("base64url");

/**
 * The longest token we issue: an id of 64 code points that JSON escapes to 6 bytes each ("\u001f"), two
 * safe integers and the brackets, in base64url.
 */
const MAX_TOKEN = 1024;

/** Undefined when the token is not one we issued. */
export const decodeCursor = (token: string): Cursor | undefined => {
  if (token.length === 0 || token.length > MAX_TOKEN || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [ts, seq, id] = value;
    // Ids are at most 64 characters in code points, as the ingest schema counts them.
    if (
      !Number.isSafeInteger(ts) ||
      !Number.isSafeInteger(seq) ||
      typeof id !== "string" ||
      codePointLength(id) > 64
    )
      return undefined;
    return { ts, seq, id };
  } catch {
    return undefined;
  }
};
