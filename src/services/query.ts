// Query use-case: cache-aside reads keyed by the store's watermark, so a cached answer is never staler than the bound.
//
// Why a repeated query sees a new event within the bound: every key carries the watermark W (the highest
// committed arrival seq), read from the store at most `watermarkReuseMs` ago (twice that for the hot path
// while a fresher read is under way). A listing is computed with
// maxSeq = W, so its cached answer is a pure function of its key: once an event commits, the next
// watermark read moves W past it and every later request looks under a key that no cached answer can
// hold yet. Answers whose window ends at "now" also expire after liveTtlMs, as the window itself moves.

import { DomainError } from "../domain/errors.ts";
import { bucketFor, eventJson, pageJson, statsJson } from "../domain/page-shape.ts";
import type { LogPage } from "../domain/query.ts";
import {
  type Params,
  type ParsedLogQuery,
  parseLogQuery,
  parseSearchQuery,
  parseStatsParams,
} from "../domain/query-params.ts";
import { codePointLength, unstorableReason } from "../domain/text.ts";
import { MAX_TIME_MS } from "../domain/time.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { QueryCache } from "../ports/query-cache.ts";
import { createWatermark } from "./watermark.ts";

export type CacheResult = "hit" | "miss" | "bypass";

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

export type ParamsInput = Params | (() => Params);

/** Memoized parses are dropped wholesale past this many distinct query strings. */
const MEMO_LIMIT = 10_000;
/** Longer query strings (long source lists) are parsed every time: they are not what runs hot. */
const MEMO_MAX_RAW = 1024;
const memoKeyOf = (endpoint: string, raw: string | undefined): string | undefined =>
  raw === undefined || raw.length > MEMO_MAX_RAW ? undefined : `${endpoint}?${raw}`;

interface Memo {
  key: string;
  cursorSeq: number | undefined;
  relative: boolean;
  end: number;
  /** The snapshot fullKey was last built for. */
  seq: number;
  fullKey: string;
}

export const createQueryService = (deps: QueryDeps) => {
  const now = deps.now ?? Date.now;
  const observer = deps.observer;
  const inflight = new Map<string, Promise<string>>();
  const lookups = new Map<string, Promise<string | undefined>>();
  const memo = new Map<string, Memo>();

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
  const watermark = mark.current;

  /** Concurrent lookups of one key share one cache read (a burst of requests after an entry expires). */
  const lookup = (fullKey: string): Promise<string | undefined> => {
    const pending = lookups.get(fullKey);
    if (pending) return pending;
    const read = deps.cache.get(fullKey);
    lookups.set(fullKey, read);
    const settled = () => {
      if (lookups.get(fullKey) === read) lookups.delete(fullKey);
    };
    read.then(settled, settled);
    return read;
  };

  /** Serves from the cache when it can; any cache failure is a bypass, never an error. */
  const cached = async (
    fullKey: string,
    ttlMs: () => number,
    compute: () => Promise<unknown>,
  ): Promise<string> => {
    let result: CacheResult = "miss";
    try {
      const hit = await lookup(fullKey);
      if (hit !== undefined) {
        observer?.cache("hit");
        return hit;
      }
    } catch {
      result = "bypass";
    }
    observer?.cache(result);
    // Concurrent misses on one key share one store read.
    const pending = inflight.get(fullKey);
    if (pending) return pending;
    const body = compute().then(
      (value) => {
        inflight.delete(fullKey);
        const text = JSON.stringify(value);
        const ttl = ttlMs();
        if (ttl > 0) deps.cache.set(fullKey, text, ttl).catch(() => {});
        return text;
      },
      (error: unknown) => {
        inflight.delete(fullKey);
        throw unavailable(error);
      },
    );
    inflight.set(fullKey, body);
    return body;
  };

  const ttlFor = (q: { end: number; relative: boolean }): number =>
    q.relative || q.end >= now() - deps.liveTtlMs ? deps.liveTtlMs : deps.cacheTtlMs;

  // A listing's snapshot: the current watermark, or the one its cursor was issued at (never beyond now's).
  const snapshotOf = (cursorSeq: number | undefined, w: number): number =>
    cursorSeq === undefined ? w : Math.min(cursorSeq, w);

  /** Sets m's snapshot for watermark w; its full key changes only with the snapshot, not per request. */
  const snapshotAt = (m: Memo, w: number): number => {
    const seq = snapshotOf(m.cursorSeq, w);
    if (m.seq !== seq) {
      m.seq = seq;
      m.fullKey = `q:${seq}:${m.key}`;
    }
    return seq;
  };

  /**
   * What a store reads for a listing at snapshot `seq`. A cursor past the last supported instant (the start
   * cursor: "before every event") bounds nothing but the snapshot, so the store gets no position at all:
   * a store must never be handed a time it cannot represent (PostgreSQL has no year 10000).
   */
  const positioned = <Q extends ParsedLogQuery>(q: Q, seq: number): Q =>
    q.cursor && q.cursor.ts > MAX_TIME_MS
      ? { ...q, cursor: undefined, page: 0, maxSeq: seq }
      : { ...q, maxSeq: seq };

  const listingKey = (endpoint: string, q: ParsedLogQuery, extra: unknown): string =>
    JSON.stringify([
      endpoint,
      q.window,
      q.levels,
      q.sources,
      q.page,
      q.size,
      q.cursor ? [q.cursor.ts, q.cursor.id] : null,
      extra,
    ]);

  /**
   * A listing endpoint. The parse of a query string is memoized (successful ones only): what a query
   * string means as a key never depends on the clock, so a hot repeated query skips parsing on a hit.
   */
  const listing =
    <Q extends ParsedLogQuery>(
      endpoint: string,
      parse: (params: Params, at: number) => Q,
      keyExtra: (q: Q) => unknown,
      read: (q: Q) => Promise<LogPage>,
    ) =>
    async (input: ParamsInput, raw: string | undefined): Promise<string> => {
      const memoKey = memoKeyOf(endpoint, raw);
      let m = memoKey === undefined ? undefined : memo.get(memoKey);
      let q: Q | undefined;
      if (!m) {
        q = parse(typeof input === "function" ? input() : input, now());
        m = {
          key: listingKey(endpoint, q, keyExtra(q)),
          cursorSeq: q.cursor?.seq,
          relative: q.relative,
          end: q.end,
          seq: -1,
          fullKey: "",
        };
        if (memoKey !== undefined) {
          if (memo.size >= MEMO_LIMIT) memo.clear();
          memo.set(memoKey, m);
        }
      }
      const w = watermark();
      const seq = snapshotAt(m, typeof w === "number" ? w : await w);
      // A relative window's end is read again after the watermark: every event at or below the snapshot
      // arrived before that instant, so none lies past the end of this page and inside a later page's window.
      if (q?.relative) q = parse(typeof input === "function" ? input() : input, now());
      const entry = m;
      return cached(
        m.fullKey,
        () => ttlFor(entry),
        async () => {
          const at = q ?? parse(typeof input === "function" ? input() : input, now());
          return pageJson(at, await read(positioned(at, seq)), seq);
        },
      );
    };

  /**
   * The hot path of a listing: its answer's bytes when everything needed is at hand without waiting (the
   * query string's parse is memoized, the watermark is fresh, this process holds the answer under the
   * current key). Anything else is undefined, and the request takes the full path, which decides the same
   * key by the same rules; a hit here counts as a cache hit as it would there.
   */
  const hot = (endpoint: string, raw: string): Blob | undefined => {
    const memoKey = memoKeyOf(endpoint, raw);
    const m = memoKey === undefined ? undefined : memo.get(memoKey);
    if (!m) return undefined;
    const w = mark.atOnce();
    if (w === undefined) return undefined;
    snapshotAt(m, w);
    const bytes = deps.cache.peek(m.fullKey);
    if (bytes !== undefined) observer?.cache("hit");
    return bytes;
  };

  const logs = listing(
    "logs",
    parseLogQuery,
    () => null,
    (q) => deps.reader.page(q),
  );
  const search = listing(
    "search",
    parseSearchQuery,
    (q) => q.terms,
    (q) => deps.reader.search(q),
  );

  return {
    watermark: async (): Promise<number> => watermark(),

    /**
     * `raw` is the request's query string as sent: when given, its parse is memoized, and `params` may be
     * a function so that a memoized hit never builds them.
     */
    logs: (params: ParamsInput, raw?: string): Promise<string> => logs(params, raw),

    search: (params: ParamsInput, raw?: string): Promise<string> => search(params, raw),

    /** The bytes of a cached listing answer, at once, or undefined (then ask logs() or search()). */
    hot: (endpoint: "logs" | "search", raw: string): Blob | undefined => hot(endpoint, raw),

    async stats(params: Params): Promise<string> {
      const { start, end, hoursBack } = parseStatsParams(params, now());
      const w = await watermark();
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
