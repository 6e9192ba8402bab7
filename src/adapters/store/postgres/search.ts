// Full-text search: a bounded newest-first walk serves common terms, time-sliced index probes serve rare ones.
//
// No single plan serves both (LIMITS.md): the text index is slow for a common word (every match is fetched
// and sorted), the time walk is slow for a rare one (it reads the whole window). So: first walk a few
// thousand of the newest rows of the window; a common term fills the page there. The hits of that walk say
// how many more rows a walk would need: if they fit in the walk budget, walk on; otherwise probe the rest of
// the window through the text index in time slices, newest first: the first one sized to hold a few pages
// at the rate the walk saw (or the whole rest of the window, counted on the way, when that rate leaves few
// matches in it), each next one four times wider; a slice holding more than probeCap matches is halved
// instead (the term is common there after all). Every query is bounded by rows read or matches fetched,
// and matchTerms is the exact final filter.

import type { LogPage, LogQuery, PageItem, SearchQuery } from "../../../domain/query.ts";
import { hasPositiveTerms, matchTerms } from "../../../domain/search-syntax.ts";
import type { Sql } from "./connect.ts";
import { rollupCount } from "./rollup.ts";
import { type EventRow, type Position, toEvent } from "./rows.ts";
import { countMatches, countNewest, probe, useBitmapPlans, useCustomPlans, walk } from "./search-sql.ts";
import { searchTotal } from "./search-total.ts";
import { candidateQuery, prefilterQuery } from "./tsv.ts";

export interface SearchTuning {
  /** Rows the first walk examines (at least two pages): a common term fills its page within them. */
  firstWalkRows: number;
  /** Rows the walks of one search examine at most before it turns to the text index. */
  walkRows: number;
  /** Matches one probe may fetch before its slice counts as dense. */
  probeCap: number;
  /** Rows all walks of one search may examine when the index cannot narrow the query (exclusions only). */
  maxWalked: number;
}

export const DEFAULT_SEARCH_TUNING: SearchTuning = {
  firstWalkRows: 2_000,
  walkRows: 20_000,
  probeCap: 5_000,
  maxWalked: 200_000,
};

const MIN_SLICE_MS = 1_000;
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
    const walkBudget = Math.max(tuning.walkRows, 2 * need);
    const firstWalk = Math.min(walkBudget, Math.max(tuning.firstWalkRows, 2 * need));
    const cap = Math.max(tuning.probeCap, 2 * need);

    return sql.begin("read only", async (tx) => {
      await useCustomPlans(tx);
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
      // What the walks saw, newest rows first: rows examined, prefilter hits and candidates (the sample of
      // the total); `run` is the same since the walks last took over from the probes, with its first time.
      const seen = { walked: 0, hits: 0, candidates: 0 };
      let run = { walked: 0, hits: 0, firstTs: undefined as number | undefined };
      // Prefilter matches newer than `pos`, and in the whole window once a probe reached its start.
      let counted = 0;
      let known: number | undefined;
      // True once a walk ended full or filled: its rows are then a sample of the window's density.
      let sampled = false;
      const plans = async (wantBitmap: boolean) => {
        if (bitmap !== wantBitmap) await useBitmapPlans(tx, wantBitmap);
        bitmap = wantBitmap;
      };

      for (let round = 0; round < MAX_ROUNDS && !covered && found.length < need; round++) {
        const want = need - found.length;
        if (!probing) {
          if (seen.walked >= maxWalked) break;
          await plans(false);
          // The first walk is short; the next takes the rest of the budget (it stops once the page is full).
          const left = positive ? walkBudget - seen.walked : 0;
          const next = seen.walked === 0 ? firstWalk : left > 0 ? left : tuning.walkRows;
          const rows = Math.min(maxWalked - seen.walked, next);
          const w = await walk(tx, q, tsq, cand, pos, rows, want);
          seen.walked += w.walked;
          seen.hits += w.hits.length;
          seen.candidates += w.candidates;
          counted += w.hits.length;
          run = {
            walked: run.walked + w.walked,
            hits: run.hits + w.hits.length,
            firstTs: run.firstTs ?? w.firstTs,
          };
          accept(w.hits);
          if (w.full || w.hits.length === want) sampled = true;
          if (w.hits.length === want) pos = lastOf(w.hits);
          else if (!w.full || !w.last) covered = true;
          else {
            pos = w.last;
            // Rows still to walk at the rate seen so far (a walk without hits counts as one).
            const more = ((need - found.length) * run.walked) / Math.max(run.hits, 1);
            if (positive && seen.walked + more > walkBudget) {
              probing = true;
              // A slice expected to hold a few pages at the rate the walks saw (that rate is an upper bound:
              // one more hit than seen), so that a rare term fills its page in one or two probes.
              // When even that rate puts few matches in the rest of the window, one probe takes all of it and
              // counts it too.
              const perMs = (run.hits + 1) / Math.max(MIN_SLICE_MS, (run.firstTs ?? pos.ts) - pos.ts);
              const rest = pos.ts - q.start;
              width =
                perMs * rest <= cap / 2
                  ? rest
                  : Math.max(MIN_SLICE_MS, Math.round((4 * (need - found.length)) / perMs));
              run = { walked: 0, hits: 0, firstTs: undefined };
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
          if (lo <= q.start && !q.cursor) known = counted + p.n;
          counted += p.rows.length === want ? want : p.n;
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
      const total = await searchTotal({
        positive,
        found: found.length,
        known,
        sample: sampled ? seen : undefined,
        rows: () => rollupCount(tx, q),
        // The sample grows from where the walks stopped, only while they are what moved the position last.
        ...(probing || covered
          ? {}
          : {
              extend: async (rows: number) => {
                await plans(false);
                const c = await countNewest(tx, q, tsq, cand, pos, rows);
                return { walked: c.walked, hits: c.n, candidates: c.candidates };
              },
            }),
        extendRows: Math.max(0, Math.min(walkBudget, maxWalked - seen.walked)),
        countMatches: async (bound) => {
          await plans(true);
          return countMatches(tx, q, tsq, bound);
        },
        countNewest: async (rows) => {
          await plans(false);
          return countNewest(tx, q, tsq, cand, undefined, rows);
        },
        maxWalked,
      });
      return { items, ...total, hasMore };
    });
  };
