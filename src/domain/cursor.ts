// The keyset cursor: one opaque token that pages back in event time (ts, id) and tails forward in arrival order (seq).

export interface Cursor {
  /** Event time of the last item seen, epoch ms. */
  ts: number;
  id: string;
  /** Arrival sequence of that item. */
  seq: number;
}

export const encodeCursor = (c: Cursor): string =>
  Buffer.from(JSON.stringify([c.ts, c.seq, c.id]), "utf8").toString("base64url");

/** Undefined when the token is not one we issued. */
export const decodeCursor = (token: string): Cursor | undefined => {
  if (token.length === 0 || token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [ts, seq, id] = value;
    if (!Number.isSafeInteger(ts) || !Number.isSafeInteger(seq) || typeof id !== "string" || id.length > 64)
      return undefined;
    return { ts, seq, id };
  } catch {
    return undefined;
  }
};
