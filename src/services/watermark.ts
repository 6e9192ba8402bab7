// The store's watermark as the query service keys its cache by it: read at most once per reuse window, one
// read at a time, and available at once to a hot path while a fresher one is being read.

export interface WatermarkOptions {
  read: () => Promise<number>;
  reuseMs: number;
  now: () => number;
  /** What a failed read rejects with. */
  failed: (error: unknown) => Error;
}

export const createWatermark = ({ read, reuseMs, now, failed }: WatermarkOptions) => {
  let mark = { value: 0, readAt: Number.NEGATIVE_INFINITY };
  let inFlight: Promise<number> | undefined;

  /** The watermark read within reuseMs, at once; else the promise of a fresh read. */
  const current = (): number | Promise<number> => {
    if (now() - mark.readAt < reuseMs) return mark.value;
    if (inFlight) return inFlight;
    // The reuse window starts when the read starts: an event committed after that may be missed only so long.
    const readAt = now();
    inFlight = read().then(
      (value) => {
        if (readAt >= mark.readAt) mark = { value, readAt };
        inFlight = undefined;
        return value;
      },
      (error: unknown) => {
        inFlight = undefined;
        throw failed(error);
      },
    );
    return inFlight;
  };

  /**
   * The watermark without waiting: the current one, or while a fresher one is being read the last one, if
   * read within twice the reuse window; else undefined.
   */
  const atOnce = (): number | undefined => {
    const w = current();
    if (typeof w === "number") return w;
    return now() - mark.readAt < 2 * reuseMs ? mark.value : undefined;
  };

  return { current, atOnce };
};

export type Watermark = ReturnType<typeof createWatermark>;
