// The embedded query cache: a bounded in-memory map with per-entry expiry (oldest entries evicted first).
// Bounded both ways: by characters (keys and values) and by entries, so that many tiny answers under
// distinct keys cannot cost more in per-entry overhead than the size bound allows for.

import type { Health } from "../../ports/log-bus.ts";
import type { QueryCache } from "../../ports/query-cache.ts";
import { BoundedEntries } from "./entries.ts";

export class MemoryCache implements QueryCache {
  private readonly entries: BoundedEntries;

  constructor(opts: { maxChars?: number; maxEntries?: number } = {}) {
    this.entries = new BoundedEntries(opts.maxEntries ?? 20_000, opts.maxChars ?? 64 * 1024 * 1024);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.entries.clear();
  }

  async get(key: string): Promise<string | undefined> {
    return this.entries.value(key);
  }

  peek(key: string): Blob | undefined {
    return this.entries.blob(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (ttlMs > 0) this.entries.put(key, value, Date.now() + ttlMs);
  }

  async health(): Promise<Health> {
    return { ok: true, detail: `in-memory, ${this.entries.count} entries` };
  }
}
