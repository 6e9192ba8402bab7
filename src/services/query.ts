// Query use-case: cache-aside reads keyed by the store's watermark, so a cached answer is never staler than the bound.
//
// Why a repeated query sees a new event within the bound: every key carries the watermark W (the highest
// committed arrival seq), read from the store at most `watermarkReuseMs` ago (twice that for the hot path
// while a fresher read is under way). A listing is computed with
// maxSeq = W, so its cached answer is a pure function of its key: once an event commits, the next
// watermark read moves W past it and every later request looks under a key that no cached answer can
// hold yet. Answers whose window ends at "now" also expire after liveTtlMs, as the window itself moves.

import { DomainError } from "../domain/errors.ts";
import { bucketFor, eventJson, statsJson } from "../domain/page-shape.ts";
import { type Params, parseLogQuery, parseSearchQuery, parseStatsParams } from "../domain/query-params.ts";
import { codePointLength, unstorableReason } from "../domain/text.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { QueryCache } from "../ports/query-cache.ts";
import { type CacheResult, createCacheAside } from "./cache-aside.ts";
import { createListings, type ParamsInput } from "./listing.ts";
import { createWatermark } from "./watermark.ts";

export type { CacheResult } from "./cache-aside.ts";
export type { ParamsInput } from "./listing.ts";

export interface QueryObserver {
  /** Exactly one per cached lookup. */
  cache(result: CacheResult): void;
  /** The store failed (the request is answered 503). */
  storeError?(error: unknown): void;
}

export interface QueryDeps {
  reader: LogReader;
  cache: QueryCache;
  /** Lifetime of an answer whose window ended in the past (it changes only with the watermark). */
  cacheTtlMs: number;
  /** Lifetime of an answer whose window reaches now (relative windows move with time). */
  liveTtlMs: number;
  /** Most sources a stats answer lists (STATS_MAX_SOURCES); the rest are summed in otherSources. */
  statsMaxSources: number;
  observer?: QueryObserver;
  /** How long the watermark itself may be reused in this process; well under liveTtlMs. */
  watermarkReuseMs?: number;
  now?: () => number;
}

/** The query service: the watermark, cache-aside reads (cache-aside.ts) and listings (listing.ts) composed. */
export const createQueryService = (deps: QueryDeps) => {
  const now = deps.now ?? Date.now;
  const observer = deps.observer;
  const counted = observer ? (result: CacheResult) => observer.cache(result) : undefined;

  const unavailable = (error: unknown): DomainError => {
    if (error instanceof DomainError) return error;
    observer?.storeError?.(error);
    return new DomainError("unavailable", "the log store is unavailable; retry shortly", { retryAfter: 1 });
  };

  const mark = createWatermark({
    read: () => deps.reader.watermark(),
    reuseMs: Math.max(0, Math.min(deps.watermarkReuseMs ?? 250, 1000)),
    now,
    failed: unavailable,
  });
  const cached = createCacheAside({
    cache: deps.cache,
    failed: unavailable,
    ...(counted ? { counted } : {}),
  });
  const listings = createListings({
    cache: deps.cache,
    cached,
    mark,
    now,
    ttlFor: (q) => (q.relative || q.end >= now() - deps.liveTtlMs ? deps.liveTtlMs : deps.cacheTtlMs),
    ...(counted ? { counted } : {}),
  });
  const logs = listings.listing(
    "logs",
    parseLogQuery,
    () => null,
    (q) => deps.reader.page(q),
  );
  const search = listings.listing(
    "search",
    parseSearchQuery,
    (q) => q.terms,
    (q) => deps.reader.search(q),
  );

  return {
    watermark: async (): Promise<number> => mark.current(),

    /**
     * `raw` is the request's query string as sent: when given, its parse is memoized, and `params` may be
     * a function so that a memoized hit never builds them.
     */
    logs: (params: ParamsInput, raw?: string): Promise<string> => logs(params, raw),

    search: (params: ParamsInput, raw?: string): Promise<string> => search(params, raw),

    /** The bytes of a cached listing answer, at once, or undefined (then ask logs() or search()). */
    hot: (endpoint: "logs" | "search", raw: string): Blob | undefined => listings.hot(endpoint, raw),

    async stats(params: Params): Promise<string> {
      const { start, end, hoursBack } = parseStatsParams(params, now());
      const w = await mark.current();
      const bucketMs = bucketFor(end - start);
      const since = Math.floor(start / 60_000) * 60_000;
      return cached(
        `q:${w}:${JSON.stringify(["stats", hoursBack])}`,
        () => deps.liveTtlMs,
        async () =>
          statsJson(
            await deps.reader.stats({ start: since, end, bucketMs, maxSources: deps.statsMaxSources }),
            since,
            end,
          ),
      );
    },

    // A stored event never changes, so its answer is keyed by id alone; a miss (404) is never cached.
    async byId(id: string): Promise<string> {
      // No stored id is longer or holds what a store refuses (NUL): such an id is not looked up at all.
      if (id.length === 0 || codePointLength(id) > 64 || unstorableReason(id) !== undefined)
        throw new DomainError("not_found", `no log event with id "${id.slice(0, 64)}"`);
      return cached(
        `id:${JSON.stringify(id)}`,
        () => deps.cacheTtlMs,
        async () => {
          const event = await deps.reader.findById(id);
          if (!event) throw new DomainError("not_found", `no log event with id "${id}"`);
          return eventJson(event);
        },
      );
    },
  };
};

export type QueryService = ReturnType<typeof createQueryService>;
