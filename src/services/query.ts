// Query use-case: cache-aside reads keyed by the store's watermark, so a cached answer is never staler than the bound.

import { DomainError } from "../domain/errors.ts";
import { bucketFor, eventJson, pageJson, statsJson } from "../domain/page-shape.ts";
import { type Params, parseLogQuery, parseSearchQuery, parseStatsParams } from "../domain/query-params.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { QueryCache } from "../ports/query-cache.ts";

export type CacheResult = "hit" | "miss" | "bypass";

export interface QueryObserver {
  cache(result: CacheResult): void;
}

export interface QueryDeps {
  reader: LogReader;
  cache: QueryCache;
  /** Lifetime of an answer whose window ended in the past (it changes only with the watermark). */
  cacheTtlMs: number;
  /** Lifetime of an answer whose window reaches now (relative windows move with time). */
  liveTtlMs: number;
  observer?: QueryObserver;
  /** How long the watermark itself may be reused in this process; well under liveTtlMs. */
  watermarkReuseMs?: number;
  now?: () => number;
}

export const createQueryService = (deps: QueryDeps) => {
  const now = deps.now ?? Date.now;
  const reuseMs = deps.watermarkReuseMs ?? 250;
  let mark = { value: 0, at: Number.NEGATIVE_INFINITY };
  let markInFlight: Promise<number> | undefined;

  const watermark = async (): Promise<number> => {
    if (now() - mark.at < reuseMs) return mark.value;
    markInFlight ??= deps.reader.watermark().then(
      (value) => {
        mark = { value, at: now() };
        markInFlight = undefined;
        return value;
      },
      (error: unknown) => {
        markInFlight = undefined;
        throw error;
      },
    );
    return markInFlight;
  };

  /** Serves from the cache when it can; any cache failure is a bypass, never an error. */
  const cached = async (key: string, ttlMs: number, compute: () => Promise<unknown>): Promise<string> => {
    const fullKey = `q:${await watermark()}:${key}`;
    let cacheUp = true;
    try {
      const hit = await deps.cache.get(fullKey);
      if (hit !== undefined) {
        deps.observer?.cache("hit");
        return hit;
      }
    } catch {
      cacheUp = false;
    }
    deps.observer?.cache(cacheUp ? "miss" : "bypass");
    const body = JSON.stringify(await compute());
    if (cacheUp) deps.cache.set(fullKey, body, ttlMs).catch(() => deps.observer?.cache("bypass"));
    return body;
  };

  const ttlFor = (end: number, relative: boolean): number =>
    relative || end >= now() - deps.liveTtlMs ? deps.liveTtlMs : deps.cacheTtlMs;

  // Relative windows are keyed by their width, not by 'now', so repeated live queries can share an entry.
  const keyOf = (endpoint: string, q: { start: number; end: number; relative: boolean }, rest: unknown): string =>
    JSON.stringify([endpoint, q.relative ? ["rel", q.end - q.start] : [q.start, q.end], rest]);

  return {
    watermark,

    async logs(params: Params): Promise<string> {
      const q = parseLogQuery(params, now());
      const key = keyOf("logs", q, [q.levels.toSorted(), q.sources.toSorted(), q.page, q.size, q.cursor ?? null]);
      return cached(key, ttlFor(q.end, q.relative), async () => pageJson(q, await deps.reader.page(q)));
    },

    async search(params: Params): Promise<string> {
      const q = parseSearchQuery(params, now());
      const key = keyOf("search", q, [q.terms, q.levels.toSorted(), q.sources.toSorted(), q.page, q.size, q.cursor ?? null]);
      return cached(key, ttlFor(q.end, q.relative), async () => pageJson(q, await deps.reader.search(q)));
    },

    async stats(params: Params): Promise<string> {
      const { start, end, hoursBack } = parseStatsParams(params, now());
      const bucketMs = bucketFor(end - start);
      const since = Math.floor(start / 60_000) * 60_000;
      return cached(JSON.stringify(["stats", hoursBack]), deps.liveTtlMs, async () =>
        statsJson(await deps.reader.stats({ start: since, end, bucketMs }), since, end),
      );
    },

    async byId(id: string): Promise<string> {
      if (id.length === 0 || id.length > 64) throw new DomainError("not_found", `no log event with id "${id.slice(0, 64)}"`);
      return cached(JSON.stringify(["id", id]), deps.cacheTtlMs, async () => {
        const event = await deps.reader.findById(id);
        if (!event) throw new DomainError("not_found", `no log event with id "${id}"`);
        return eventJson(event);
      });
    },
  };
};

export type QueryService = ReturnType<typeof createQueryService>;
