// The in-process store behind the in-memory cache and the L1: values with an expiry, bounded by count and
// size, oldest evicted first, each kept also as a Blob once it has been peeked (sent without a copy).

interface Entry {
  value: string;
  expires: number;
  /** The value as UTF-8 bytes, made on the first peek and then reused. */
  blob?: Blob;
}

export class BoundedEntries {
  private readonly map = new Map<string, Entry>();
  /** String length in characters, plus the bytes of peeked entries. */
  private size = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxSize: number,
  ) {}

  get count(): number {
    return this.map.size;
  }

  /** The value while it has not expired (an expired one is dropped). */
  value(key: string, now = Date.now()): string | undefined {
    return this.live(key, now)?.value;
  }

  blob(key: string): Blob | undefined {
    const entry = this.live(key, Date.now());
    if (!entry) return undefined;
    if (!entry.blob) {
      entry.blob = new Blob([entry.value]);
      this.size += entry.blob.size;
    }
    return entry.blob;
  }

  /** A value larger than the whole bound is not kept. */
  put(key: string, value: string, expires: number): void {
    if (value.length > this.maxSize) return;
    this.delete(key);
    this.map.set(key, { value, expires });
    this.size += value.length;
    // Map iteration is insertion order: the first keys are the oldest.
    for (const k of this.map.keys()) {
      if (this.map.size <= this.maxEntries && this.size <= this.maxSize) break;
      this.delete(k);
    }
  }

  clear(): void {
    this.map.clear();
    this.size = 0;
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (entry.expires > now) return entry;
    this.delete(key);
    return undefined;
  }

  private delete(key: string): void {
    const entry = this.map.get(key);
    if (!entry) return;
    this.size -= entry.value.length + (entry.blob?.size ?? 0);
    this.map.delete(key);
  }
}
