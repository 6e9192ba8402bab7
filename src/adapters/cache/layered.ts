// A tiny in-process L1 in front of a shared cache (Redis): hot repeated queries never leave the process.
// An answer never outlives the lifetime its writer gave it: the shared copy carries its absolute expiry,
// and the L1 keeps a copy at most l1TtlMs and never past that expiry.

import type { Health } from "../../ports/log-bus.ts";
import type { QueryCache } from "../../ports/query-cache.ts";
import { BoundedEntries } from "./entries.ts";

export interface LayeredOptions {
  /** Longest an entry stays in the L1, and never past the expiry its writer gave it. */
  l1TtlMs?: number;
  maxEntries?: number;
  /** Approximate bound on the L1's size (key and value length in characters, plus the bytes of peeked entries). */
  maxChars?: number;
}

export class LayeredCache implements QueryCache {
  private readonly l1: BoundedEntries;
  private readonly l1TtlMs: number;

  constructor(
    private readonly l2: QueryCache,
    opts: LayeredOptions = {},
  ) {
    this.l1TtlMs = opts.l1TtlMs ?? 1000;
    this.l1 = new BoundedEntries(opts.maxEntries ?? 1000, opts.maxChars ?? 16 * 1024 * 1024);
  }

  start(): Promise<void> {
    return this.l2.start();
  }

  async stop(): Promise<void> {
    this.l1.clear();
    await this.l2.stop();
  }

  /** An L1 hit never touches the L2; an L1 miss rejects when the L2 does (the caller bypasses). */
  async get(key: string): Promise<string | undefined> {
    const now = Date.now();
    const held = this.l1.value(key, now);
    if (held !== undefined) return held;
    const stored = await this.l2.get(key);
    if (stored === undefined) return undefined;
    const cut = stored.indexOf(":");
    const expires = cut > 0 ? Number(stored.slice(0, cut)) : Number.NaN;
    // A value without our envelope was not written by us: a miss.
    if (!Number.isFinite(expires) || expires <= now) return undefined;
    const value = stored.slice(cut + 1);
    this.l1.put(key, value, Math.min(expires, now + this.l1TtlMs));
    return value;
  }

  /** Answers from the L1 alone: a value only the shared cache holds is get()'s to fetch. */
  peek(key: string): Blob | undefined {
    return this.l1.blob(key);
  }

  /** The L1 copy is kept even when the L2 write fails, so a cache outage still serves hot queries. */
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs >= 1)) return;
    const now = Date.now();
    this.l1.put(key, value, now + Math.min(ttlMs, this.l1TtlMs));
    await this.l2.set(key, `${now + ttlMs}:${value}`, ttlMs);
  }

  async health(): Promise<Health> {
    const h = await this.l2.health();
    return { ok: h.ok, detail: `${h.detail ?? ""}; l1 ${this.l1.count} entries`.replace(/^; /, "") };
  }
}
