// The embedded query cache: a bounded in-memory map with per-entry expiry (oldest entries evicted first).

import type { Health } from "../../ports/log-bus.ts";
import type { QueryCache } from "../../ports/query-cache.ts";
import { BoundedEntries } from "./entries.ts";

export class MemoryCache implements QueryCache {
  private readonly entries: BoundedEntries;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.entries = new BoundedEntries(Number.POSITIVE_INFINITY, maxBytes);
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
