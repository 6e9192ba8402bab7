// The embedded query cache: a bounded in-memory map with per-entry expiry (oldest entries evicted first).

import type { Health } from "../../ports/log-bus.ts";
import type { QueryCache } from "../../ports/query-cache.ts";

interface Entry {
  value: string;
  expires: number;
  /** The value as UTF-8 bytes, made on the first peek and then reused (a Blob is sent without a copy). */
  blob?: Blob;
}

export class MemoryCache implements QueryCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.entries.clear();
    this.bytes = 0;
  }

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  peek(key: string): Blob | undefined {
    const entry = this.live(key);
    if (!entry) return undefined;
    if (!entry.blob) {
      entry.blob = new Blob([entry.value]);
      this.bytes += entry.blob.size;
    }
    return entry.blob;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (ttlMs <= 0 || value.length > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { value, expires: Date.now() + ttlMs });
    this.bytes += value.length;
    // Map iteration is insertion order: the first keys are the oldest.
    for (const k of this.entries.keys()) {
      if (this.bytes <= this.maxBytes) break;
      this.delete(k);
    }
  }

  async health(): Promise<Health> {
    return { ok: true, detail: `in-memory, ${this.entries.size} entries` };
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return entry;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.value.length + (entry.blob?.size ?? 0);
    this.entries.delete(key);
  }
}
