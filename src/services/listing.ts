// Listings (logs, search) at a snapshot: the parse of each query string memoized, its cache key built once
// per snapshot, and the hot path that answers from this process's copy without waiting for anything.

import { pageJson } from "../domain/page-shape.ts";
import type { LogPage } from "../domain/query.ts";
import type { Params, ParsedLogQuery } from "../domain/query-params.ts";
import { MAX_TIME_MS } from "../domain/time.ts";
import type { QueryCache } from "../ports/query-cache.ts";
import type { CacheAside, CacheResult } from "./cache-aside.ts";
import type { Watermark } from "./watermark.ts";

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

export interface ListingDeps {
  cache: QueryCache;
  cached: CacheAside;
  mark: Watermark;
  now: () => number;
  /** The lifetime of a listing's answer: short while its window reaches now. */
  ttlFor: (q: { end: number; relative: boolean }) => number;
  counted?: (result: CacheResult) => void;
}

// A listing's snapshot: the current watermark, or the one its cursor was issued at (never beyond now's).
const snapshotOf = (cursorSeq: number | undefined, w: number): number =>
  cursorSeq === undefined ? w : Math.min(cursorSeq, w);

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

export const createListings = (deps: ListingDeps) => {
  const { now } = deps;
  const memo = new Map<string, Memo>();

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
      const w = deps.mark.current();
      const seq = snapshotAt(m, typeof w === "number" ? w : await w);
      // A relative window's end is read again after the watermark: every event at or below the snapshot
      // arrived before that instant, so none lies past the end of this page and inside a later page's window.
      if (q?.relative) q = parse(typeof input === "function" ? input() : input, now());
      const entry = m;
      return deps.cached(
        m.fullKey,
        () => deps.ttlFor(entry),
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
    const w = deps.mark.atOnce();
    if (w === undefined) return undefined;
    snapshotAt(m, w);
    const bytes = deps.cache.peek(m.fullKey);
    if (bytes !== undefined) deps.counted?.("hit");
    return bytes;
  };

  return { listing, hot };
};
