// A tiny in-process L1 in front of a shared cache (Redis): hot repeated queries never leave the process.
// An answer never outlives the lifetime its writer gave it: the shared copy carries its absolute expiry,
// and the L1 keeps a copy at most l1TtlMs and never past that expiry.

import type { Health } from "../../ports/log-bus.ts";
import type { QueryCache } from "../../ports/query-cache.ts";

export interface LayeredOptions {
  /** Longest an entry stays in the L1, and never past the expiry its writer gave it. */
  l1TtlMs?: number;
  maxEntries?: number;
  /** Approximate bound on the L1's size (string length in characters, plus the bytes of peeked entries). */
  maxChars?: number;
}

interface Entry {
  value: string;
  expires: number;
  /** The value as UTF-8 bytes, made on the first peek and then reused (a Blob is sent without a copy). */
  blob?: Blob;
}

export class LayeredCache implements QueryCache {
  private readonly l1 = new Map<string, Entry>();
  private chars = 0;
  private readonly l1TtlMs: number;
  private readonly maxEntries: number;
  private readonly maxChars: number;

  constructor(
    private readonly l2: QueryCache,
    opts: LayeredOptions = {},
  ) {
    this.l1TtlMs = opts.l1TtlMs ?? 1000;
    this.maxEntries = opts.maxEntries ?? 1000;
    this.maxChars = opts.maxChars ?? 16 * 1024 * 1024;
  }

  start(): Promise<void> {
    return this.l2.start();
  }

  async stop(): Promise<void> {
    this.l1.clear();
    this.chars = 0;
    await this.l2.stop();
  }

  /** An L1 hit never touches the L2; an L1 miss rejects when the L2 does (the caller bypasses). */
  async get(key: string): Promise<string | undefined> {
    const now = Date.now();
    const entry = this.l1.get(key);
    if (entry) {
      if (entry.expires > now) return entry.value;
      this.forget(key);
    }
    const stored = await this.l2.get(key);
    if (stored === undefined) return undefined;
    const cut = stored.indexOf(":");
    const expires = cut > 0 ? Number(stored.slice(0, cut)) : Number.NaN;
    // A value without our envelope was not written by us: a miss.
    if (!Number.isFinite(expires) || expires <= now) return undefined;
    const value = stored.slice(cut + 1);
    this.remember(key, value, Math.min(expires, now + this.l1TtlMs));
    return value;
  }

  /** Answers from the L1 alone: a value only the shared cache holds is get()'s to fetch. */
  peek(key: string): Blob | undefined {
    const entry = this.l1.get(key);
    if (!entry) return undefined;
    if (entry.expires <= Date.now()) {
      this.forget(key);
      return undefined;
    }
    if (!entry.blob) {
      entry.blob = new Blob([entry.value]);
      this.chars += entry.blob.size;
    }
    return entry.blob;
  }

  /** The L1 copy is kept even when the L2 write fails, so a cache outage still serves hot queries. */
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs >= 1)) return;
    const now = Date.now();
    this.remember(key, value, now + Math.min(ttlMs, this.l1TtlMs));
    await this.l2.set(key, `${now + ttlMs}:${value}`, ttlMs);
  }

  async health(): Promise<Health> {
    const h = await this.l2.health();
    return { ok: h.ok, detail: `${h.detail ?? ""}; l1 ${this.l1.size} entries`.replace(/^; /, "") };
  }

  private remember(key: string, value: string, expires: number): void {
    if (value.length > this.maxChars) return;
    this.forget(key);
    this.l1.set(key, { value, expires });
    this.chars += value.length;
    // Map iteration is insertion order: the first keys are the oldest.
    for (const k of this.l1.keys()) {
      if (this.l1.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.forget(k);
    }
  }

  private forget(key: string): void {
    const entry = this.l1.get(key);
    if (!entry) return;
    this.chars -= entry.value.length + (entry.blob?.size ?? 0);
    this.l1.delete(key);
  }
}
