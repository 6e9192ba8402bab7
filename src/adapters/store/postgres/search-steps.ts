// The steps of a search as named transitions over one explicit state: walk, turn to probes, probe, total.

import type { PageItem, SearchQuery } from "../../../domain/query.ts";
import { matchTerms } from "../../../domain/search-syntax.ts";
import type { Tx } from "./connect.ts";
import { rollupCount } from "./rollup.ts";
import { type EventRow, type Position, toEvent } from "./rows.ts";
import { countMatches, countNewest, probe, useBitmapPlans, walk } from "./search-sql.ts";
import { searchTotal } from "./search-total.ts";

const MIN_SLICE_MS = 1_000;

/** What a search is after, fixed before its first step. */
export interface SearchPlan {
  q: SearchQuery;
  /** The prefilter (every positive word) and the candidate test (the words a row must hold) as tsqueries. */
  tsq: string;
  cand: string | undefined;
  positive: boolean;
  /** Matches to skip (a numbered page) and to find: the page plus one, to know whether more follow. */
  skip: number;
  need: number;
  firstWalk: number;
  walkBudget: number;
  walkRows: number;
  /** Matches one probe may fetch before its slice counts as dense. */
  cap: number;
  maxWalked: number;
}

/** Where a search stands between steps. */
export interface SearchState {
  found: PageItem[];
  /** The position after the last row examined (newest first); undefined before the first step. */
  pos: Position | undefined;
  /** The whole window has been examined. */
  covered: boolean;
  /** "walk" along (ts, id) or "probe" the text index over time slices of `width` ms. */
  mode: "walk" | "probe";
  width: number;
  /** The newest-first walks so far: rows examined, prefilter hits, candidates (the sample of the total). */
  seen: { walked: number; hits: number; candidates: number };
  /** The same since the walks last took over from the probes, with the time of its first row. */
  run: { walked: number; hits: number; firstTs: number | undefined };
  /** Prefilter matches newer than `pos`; `known` in the whole window once a probe reached its start. */
  counted: number;
  known: number | undefined;
  /** A walk ended full or filled: its rows are a sample of the window's density. */
  sampled: boolean;
  /** Bitmap plans are on for this transaction. */
  bitmap: boolean;
}

export const initialState = (q: SearchQuery): SearchState => ({
  found: [],
  pos: q.cursor ? { ts: q.cursor.ts, id: q.cursor.id } : undefined,
  covered: false,
  mode: "walk",
  width: 0,
  seen: { walked: 0, hits: 0, candidates: 0 },
  run: { walked: 0, hits: 0, firstTs: undefined },
  counted: 0,
  known: undefined,
  sampled: false,
  bitmap: false,
});

/** The search goes on while the window is not covered and the page is not full. */
export const searching = (p: SearchPlan, s: SearchState): boolean => !s.covered && s.found.length < p.need;

const plans = async (tx: Tx, s: SearchState, bitmap: boolean): Promise<void> => {
  if (s.bitmap !== bitmap) await useBitmapPlans(tx, bitmap);
  s.bitmap = bitmap;
};

const accept = (p: SearchPlan, s: SearchState, rows: EventRow[]): void => {
  for (const r of rows) {
    const matched = matchTerms(p.q.terms, r.message);
    if (matched) s.found.push({ ...toEvent(r), matched });
  }
};

const lastOf = (rows: EventRow[]): Position => {
  const r = rows[rows.length - 1] as EventRow;
  return { ts: r.ts.getTime(), id: r.id };
};

/**
 * Turns to the text index when the rows still to walk at the rate seen (a walk without hits counts as one)
 * pass the budget. The first slice is expected to hold a few pages at that rate (an upper bound: one more
 * hit than seen), so a rare term fills its page in one or two probes; when even that rate puts few matches
 * in the rest of the window, one probe takes all of it and counts it too.
 */
const turnToProbes = (p: SearchPlan, s: SearchState, pos: Position): void => {
  const more = ((p.need - s.found.length) * s.run.walked) / Math.max(s.run.hits, 1);
  if (!p.positive || s.seen.walked + more <= p.walkBudget) return;
  const perMs = (s.run.hits + 1) / Math.max(MIN_SLICE_MS, (s.run.firstTs ?? pos.ts) - pos.ts);
  const rest = pos.ts - p.q.start;
  s.width =
    perMs * rest <= p.cap / 2
      ? rest
      : Math.max(MIN_SLICE_MS, Math.round((4 * (p.need - s.found.length)) / perMs));
  s.mode = "probe";
  s.run = { walked: 0, hits: 0, firstTs: undefined };
};

/**
 * Walks newest first from the position: the first walk is short, the next takes the rest of the budget
 * (stopping once the page is full). False when the walks may examine no more rows.
 */
export const walkStep = async (tx: Tx, p: SearchPlan, s: SearchState): Promise<boolean> => {
  if (s.seen.walked >= p.maxWalked) return false;
  await plans(tx, s, false);
  const want = p.need - s.found.length;
  const left = p.positive ? p.walkBudget - s.seen.walked : 0;
  const next = s.seen.walked === 0 ? p.firstWalk : left > 0 ? left : p.walkRows;
  const w = await walk(tx, p.q, p.tsq, p.cand, s.pos, Math.min(p.maxWalked - s.seen.walked, next), want);
  s.seen.walked += w.walked;
  s.seen.hits += w.hits.length;
  s.seen.candidates += w.candidates;
  s.counted += w.hits.length;
  s.run = {
    walked: s.run.walked + w.walked,
    hits: s.run.hits + w.hits.length,
    firstTs: s.run.firstTs ?? w.firstTs,
  };
  accept(p, s, w.hits);
  if (w.full || w.hits.length === want) s.sampled = true;
  if (w.hits.length === want) s.pos = lastOf(w.hits);
  else if (!w.full || !w.last) s.covered = true;
  else {
    s.pos = w.last;
    turnToProbes(p, s, w.last);
  }
  return true;
};

/**
 * Probes the text index over the next slice, newest first. A slice holding more than `cap` matches is
 * halved (or walked, once narrow: the term is common there after all); a slice read whole moves the
 * position to its start and the next one is four times wider.
 */
export const probeStep = async (tx: Tx, p: SearchPlan, s: SearchState): Promise<void> => {
  await plans(tx, s, true);
  const want = p.need - s.found.length;
  const hi = s.pos ? s.pos.ts : p.q.end;
  const lo = Math.max(p.q.start, hi - s.width);
  const r = await probe(tx, p.q, p.tsq, lo, s.pos, p.cap, want);
  if (r.dense) {
    if (s.width > MIN_SLICE_MS) s.width = Math.max(MIN_SLICE_MS, Math.floor(s.width / 2));
    else s.mode = "walk";
    return;
  }
  accept(p, s, r.rows);
  if (lo <= p.q.start && !p.q.cursor) s.known = s.counted + r.n;
  s.counted += r.rows.length === want ? want : r.n;
  if (r.rows.length === want) s.pos = lastOf(r.rows);
  else if (lo <= p.q.start) s.covered = true;
  else {
    s.pos = { ts: lo, id: "" };
    s.width *= 4;
  }
};

/** The page's total: exact when known, else a sure estimate from the walks' sample or bounded counts. */
export const totalStep = (tx: Tx, p: SearchPlan, s: SearchState) =>
  searchTotal({
    positive: p.positive,
    found: s.found.length,
    known: s.known,
    sample: s.sampled ? s.seen : undefined,
    rows: () => rollupCount(tx, p.q),
    // The sample grows from where the walks stopped, only while they are what moved the position last.
    ...(s.mode === "probe" || s.covered
      ? {}
      : {
          extend: async (rows: number) => {
            await plans(tx, s, false);
            const c = await countNewest(tx, p.q, p.tsq, p.cand, s.pos, rows);
            return { walked: c.walked, hits: c.n, candidates: c.candidates };
          },
        }),
    extendRows: Math.max(0, Math.min(p.walkBudget, p.maxWalked - s.seen.walked)),
    countMatches: async (bound) => {
      await plans(tx, s, true);
      return countMatches(tx, p.q, p.tsq, bound);
    },
    countNewest: async (rows) => {
      await plans(tx, s, false);
      return countNewest(tx, p.q, p.tsq, p.cand, undefined, rows);
    },
    maxWalked: p.maxWalked,
  });
