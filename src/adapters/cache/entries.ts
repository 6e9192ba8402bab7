// The in-process store behind the in-memory cache and the L1: values with an expiry, bounded by count and
// size, oldest evicted first, each kept also as a Blob once it has been peeked (sent without a copy).
// Keys count toward the size as values do: keys are built from client query strings, so a flood of
// distinct requests with small answers must not grow the map past its bound.

interface Entry {
  value: string;
  expires: number;
  /** Its place in the eviction order: a queued key whose entry has another seq was replaced. */
  seq: number;
  /** The value as UTF-8 bytes, made on the first peek and then reused. */
  blob?: Blob;
}

export class BoundedEntries {
  private readonly map = new Map<string, Entry>();
  /** Key and value length in characters, plus the bytes of peeked entries. */
  private size = 0;
  /**
   * Keys oldest first, with the seq they were put under. Evicting from the front of the Map itself would
   * be simpler, but on Bun a Map iterates past every entry deleted since it last rehashed, which makes each
   * eviction of a full map slow (measured: 70 µs per put at 20,000 entries).
   */
  private order: { key: string; seq: number }[] = [];
  private head = 0;
  private seq = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxSize: number,
  ) {}

  get count(): number {
    return this.map.size;
  }

  /** What the size bound is checked against: key and value characters, plus peeked bytes. */
  get chars(): number {
    return this.size;
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
      // The peeked bytes count toward the bound at once: older entries make room (this one too, if need be;
      // its caller still gets the blob).
      this.shrink();
    }
    return entry.blob;
  }

  /** An entry larger than the whole bound is not kept. */
  put(key: string, value: string, expires: number): void {
    this.delete(key);
    if (key.length + value.length > this.maxSize) return;
    const seq = ++this.seq;
    this.map.set(key, { value, expires, seq });
    this.order.push({ key, seq });
    this.size += key.length + value.length;
    this.shrink();
  }

  /** Evicts oldest first until both bounds hold. */
  private shrink(): void {
    while ((this.map.size > this.maxEntries || this.size > this.maxSize) && this.head < this.order.length) {
      const oldest = this.order[this.head++];
      if (oldest && this.map.get(oldest.key)?.seq === oldest.seq) this.delete(oldest.key);
    }
    this.compact();
  }

  clear(): void {
    this.map.clear();
    this.size = 0;
    this.order = [];
    this.head = 0;
  }

  /** Drops queued keys that were evicted, replaced or expired, once they outnumber the live ones. */
  private compact(): void {
    if (this.order.length - this.head <= 2 * this.map.size + 1024) return;
    this.order = this.order.slice(this.head).filter((o) => this.map.get(o.key)?.seq === o.seq);
    this.head = 0;
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
    this.size -= key.length + entry.value.length + (entry.blob?.size ?? 0);
    this.map.delete(key);
  }
}
