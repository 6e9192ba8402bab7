// Cache-aside reads: one cache read per key at a time, one store read per missing key at a time, and a cache
// failure is a bypass (the answer comes from the store), never an error.

import type { QueryCache } from "../ports/query-cache.ts";

export type CacheResult = "hit" | "miss" | "bypass";

export interface CacheAsideDeps {
  cache: QueryCache;
  /** Exactly one per lookup. */
  counted?: (result: CacheResult) => void;
  /** What a failed store read is answered with (the error thrown to the caller). */
  failed: (error: unknown) => Error;
}

export const createCacheAside = (deps: CacheAsideDeps) => {
  const inflight = new Map<string, Promise<string>>();
  const lookups = new Map<string, Promise<string | undefined>>();

  /** Concurrent lookups of one key share one cache read (a burst of requests after an entry expires). */
  const lookup = (key: string): Promise<string | undefined> => {
    const pending = lookups.get(key);
    if (pending) return pending;
    const read = deps.cache.get(key);
    lookups.set(key, read);
    const settled = () => {
      if (lookups.get(key) === read) lookups.delete(key);
    };
    read.then(settled, settled);
    return read;
  };

  /** The cached answer under `key`, else `compute()`'s as JSON, stored for `ttlMs()` when that is positive. */
  return async (key: string, ttlMs: () => number, compute: () => Promise<unknown>): Promise<string> => {
    let result: CacheResult = "miss";
    try {
      const hit = await lookup(key);
      if (hit !== undefined) {
        deps.counted?.("hit");
        return hit;
      }
    } catch {
      result = "bypass";
    }
    deps.counted?.(result);
    // Concurrent misses on one key share one store read.
    const pending = inflight.get(key);
    if (pending) return pending;
    const body = compute().then(
      (value) => {
        inflight.delete(key);
        const text = JSON.stringify(value);
        const ttl = ttlMs();
        if (ttl > 0) deps.cache.set(key, text, ttl).catch(() => {});
        return text;
      },
      (error: unknown) => {
        inflight.delete(key);
        throw deps.failed(error);
      },
    );
    inflight.set(key, body);
    return body;
  };
};

export type CacheAside = ReturnType<typeof createCacheAside>;
