// Full-text search: a bounded newest-first walk serves common terms, time-sliced index probes serve rare ones.
//
// No single plan serves both (LIMITS.md): the text index is slow for a common word (every match is fetched
// and sorted), the time walk is slow for a rare one (it reads the whole window). So: first walk the newest
// walkRows rows of the window; a common term fills the page there. Otherwise probe the rest of the window
// through the text index in time slices, newest first, each slice four times wider than the last; a slice
// holding more than probeCap matches is halved instead (the term is common there after all). Every query
// is bounded by rows read or matches fetched, and matchTerms is the exact final filter.

import {
  EXACT_TOTAL_BOUND,
  type LogPage,
  type LogQuery,
  type PageItem,
  type SearchQuery,
} from "../../../domain/query.ts";
import { hasPositiveTerms, matchTerms } from "../../../domain/search-syntax.ts";
import type { Sql } from "./connect.ts";
import { rollupCount } from "./rollup.ts";
import { type EventRow, type Position, toEvent } from "./rows.ts";
import { countMatches, countNewest, probe, useBitmapPlans, walk } from "./search-sql.ts";
import { candidateQuery, prefilterQuery } from "./tsv.ts";

export interface SearchTuning {
  /** Rows one walk examines. */
  walkRows: number;
  /** Matches one probe may fetch before its slice counts as dense. */
  probeCap: number;
  /** Rows all walks of one search may examine when the index cannot narrow the query (exclusions only). */
  maxWalked: number;
}

export const DEFAULT_SEARCH_TUNING: SearchTuning = { walkRows: 20_000, probeCap: 5_000, maxWalked: 200_000 };

const MIN_SLICE_MS = 1_000;
/** An exact count rechecks every index candidate: past this many (estimated), estimate instead. */
const COUNT_CANDIDATES = 50_000;
const MAX_ROUNDS = 64;

export const createSearch =
  (sql: Sql, page: (q: LogQuery) => Promise<LogPage>, tuning: SearchTuning = DEFAULT_SEARCH_TUNING) =>
  async (q: SearchQuery): Promise<LogPage> => {
    const { maxWalked } = tuning;
    const terms = q.terms;
    const tsq = prefilterQuery(terms);
    const cand = candidateQuery(terms);
    if (tsq === undefined) {
      const plain = await page(q);
      return { ...plain, items: plain.items.map((i) => ({ ...i, matched: [] })) };
    }
    const positive = hasPositiveTerms(terms);
    const skip = q.cursor ? 0 : q.page * q.size;
    const need = skip + q.size + 1;
    const walkRows = Math.max(tuning.walkRows, 2 * need);
    const cap = Math.max(tuning.probeCap, 2 * need);

    return sql.begin("read only", async (tx) => {
      const found: PageItem[] = [];
      const accept = (rows: EventRow[]) => {
        for (const r of rows) {
          const matched = matchTerms(terms, r.message);
          if (matched) found.push({ ...toEvent(r), matched });
        }
      };
      const lastOf = (rows: EventRow[]): Position => {
        const r = rows[rows.length - 1] as EventRow;
        return { ts: r.ts.getTime(), id: r.id };
      };
      let pos: Position | undefined = q.cursor ? { ts: q.cursor.ts, id: q.cursor.id } : undefined;
      let covered = false;
      let probing = false;
      let bitmap = false;
      let width = 0;
      let walked = 0;
      let density: { passed: number; candidates: number } | undefined;
      const plans = async (wantBitmap: boolean) => {
        if (bitmap !== wantBitmap) await useBitmapPlans(tx, wantBitmap);
        bitmap = wantBitmap;
      };

      for (let round = 0; round < MAX_ROUNDS && !covered && found.length < need; round++) {
        const want = need - found.length;
        if (!probing) {
          if (walked >= maxWalked) break;
          await plans(false);
          const w = await walk(tx, q, tsq, cand, pos, walkRows, want);
          walked += w.walked;
          accept(w.hits);
          if (density === undefined && w.walked > 0 && (w.full || w.hits.length === want))
            density = { passed: w.hits.length / w.walked, candidates: w.candidates / w.walked };
          if (w.hits.length === want) pos = lastOf(w.hits);
          else if (!w.full || !w.last) covered = true;
          else {
            pos = w.last;
            if (positive) {
              probing = true;
              width = Math.max(MIN_SLICE_MS, (w.firstTs ?? w.last.ts) - w.last.ts);
            }
          }
        } else {
          await plans(true);
          const hi = pos ? pos.ts : q.end;
          const lo = Math.max(q.start, hi - width);
          const p = await probe(tx, q, tsq, lo, pos, cap, want);
          if (p.dense) {
            // Too many matches to fetch in this slice: look at its newer half, or walk it when already narrow.
            if (width > MIN_SLICE_MS) width = Math.max(MIN_SLICE_MS, Math.floor(width / 2));
            else probing = false;
            continue;
          }
          accept(p.rows);
          if (p.rows.length === want) pos = lastOf(p.rows);
          else if (lo <= q.start) covered = true;
          else {
            pos = { ts: lo, id: "" };
            width *= 4;
          }
        }
      }

      const complete = covered || found.length >= need;
      const items = found.slice(skip, skip + q.size);
      const hasMore = found.length > skip + q.size || (!complete && items.length > 0);
      if (covered && !q.cursor) return { items, total: found.length, totalExact: true, hasMore };

      // Totals: estimated from the walk's densities and the rollup when a count would be large (past the
      // bound) or costly (every index candidate is rechecked); otherwise counted up to the bound.
      if (positive) {
        let estimate = 0;
        if (density) {
          const rows = await rollupCount(tx, q);
          estimate = Math.max(Math.round(density.passed * rows), found.length);
          if (estimate > 2 * EXACT_TOTAL_BOUND || density.candidates * rows > COUNT_CANDIDATES)
            return { items, total: estimate, totalExact: false, hasMore };
        }
        await plans(true);
        const n = await countMatches(tx, q, tsq, EXACT_TOTAL_BOUND);
        if (n <= EXACT_TOTAL_BOUND) return { items, total: n, totalExact: true, hasMore };
        return { items, total: Math.max(n, estimate), totalExact: false, hasMore };
      }
      // Exclusions only: every row is a candidate, so the walk's density is the estimate when it has one.
      if (density) {
        const estimate = Math.max(Math.round(density.passed * (await rollupCount(tx, q))), found.length);
        if (estimate > 2 * EXACT_TOTAL_BOUND) return { items, total: estimate, totalExact: false, hasMore };
      }
      await plans(false);
      const c = await countNewest(tx, q, tsq, maxWalked);
      if (c.walked < maxWalked) return { items, total: c.n, totalExact: true, hasMore };
      const scaled = c.walked ? Math.round((c.n / c.walked) * (await rollupCount(tx, q))) : 0;
      return { items, total: Math.max(c.n, scaled), totalExact: false, hasMore };
    });
  };
