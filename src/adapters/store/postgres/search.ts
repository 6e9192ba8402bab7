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

import type { LogPage, LogQuery, SearchQuery } from "../../../domain/query.ts";
import { hasPositiveTerms } from "../../../domain/search-syntax.ts";
import type { Sql } from "./connect.ts";
import { useCustomPlans } from "./search-sql.ts";
import { initialState, probeStep, type SearchPlan, searching, totalStep, walkStep } from "./search-steps.ts";
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

const MAX_ROUNDS = 64;

export const createSearch =
  (sql: Sql, page: (q: LogQuery) => Promise<LogPage>, tuning: SearchTuning = DEFAULT_SEARCH_TUNING) =>
  async (q: SearchQuery): Promise<LogPage> => {
    const tsq = prefilterQuery(q.terms);
    if (tsq === undefined) {
      const plain = await page(q);
      return { ...plain, items: plain.items.map((i) => ({ ...i, matched: [] })) };
    }
    const skip = q.cursor ? 0 : q.page * q.size;
    const need = skip + q.size + 1;
    const walkBudget = Math.max(tuning.walkRows, 2 * need);
    const plan: SearchPlan = {
      q,
      tsq,
      cand: candidateQuery(q.terms),
      positive: hasPositiveTerms(q.terms),
      skip,
      need,
      walkBudget,
      firstWalk: Math.min(walkBudget, Math.max(tuning.firstWalkRows, 2 * need)),
      walkRows: tuning.walkRows,
      cap: Math.max(tuning.probeCap, 2 * need),
      maxWalked: tuning.maxWalked,
    };

    return sql.begin("read only", async (tx) => {
      await useCustomPlans(tx);
      const state = initialState(q);
      for (let round = 0; round < MAX_ROUNDS && searching(plan, state); round++) {
        if (state.mode === "probe") await probeStep(tx, plan, state);
        else if (!(await walkStep(tx, plan, state))) break;
      }
      const { found, covered } = state;
      const complete = covered || found.length >= need;
      const items = found.slice(skip, skip + q.size);
      const hasMore = found.length > skip + q.size || (!complete && items.length > 0);
      if (covered && !q.cursor) return { items, total: found.length, totalExact: true, hasMore };
      return { items, ...(await totalStep(tx, plan, state)), hasMore };
    });
  };
