// The total of a search that did not see its whole window: exact up to EXACT_TOTAL_BOUND, an estimate past it.
//
// The walks are a sample of the window: newest rows first, `hits` of `walked` passing the prefilter. Scaled
// to the rows the rollups count in the window it estimates the total; when that estimate is surely past the
// bound it is the answer, and nothing is counted. A count through the text index reads every posting of
// every word in each day it touches, which is costly for common words: when the sample is too small to be
// sure but the term is dense, walking further to grow the sample is cheaper than counting.

import { EXACT_TOTAL_BOUND } from "../../../domain/query.ts";

/** An exact count rechecks every index candidate: past this many (estimated), estimate instead. */
const COUNT_CANDIDATES = 50_000;

export interface Sample {
  walked: number;
  hits: number;
  candidates: number;
}

export interface TotalSources {
  positive: boolean;
  /** Matches already found (a lower bound). */
  found: number;
  /** Prefilter matches in the whole window, when the walks and probes happened to see all of it. */
  known: number | undefined;
  /** What the walks saw, when at least one ended full or filled its page. */
  sample: Sample | undefined;
  /**
   * Events in the window, from the rollups. They count rows stored after a listing's snapshot too, so only
   * estimates scale by them; every exact total here counts rows under the snapshot bound (filterSql).
   */
  rows(): Promise<number>;
  /** Walks up to `rows` more rows after the sample, counting only. */
  extend?(rows: number): Promise<Sample>;
  /** Rows the sample may still grow by. */
  extendRows: number;
  /** Prefilter matches in the window, counted up to `bound` + 1 through the text index. */
  countMatches(bound: number): Promise<number>;
  /** Prefilter matches among the newest `rows` rows of the window. */
  countNewest(rows: number): Promise<{ n: number; walked: number }>;
  maxWalked: number;
}

/**
 * A sample holding `hits` matches is rarely off by more than 3/√hits of itself (three standard deviations
 * of a Poisson count): an estimate whose lower end is past the bound is surely past it.
 */
const lowEnd = (estimate: number, hits: number): number =>
  hits > 9 ? estimate * (1 - 3 / Math.sqrt(hits)) : 0;

export const searchTotal = async (s: TotalSources): Promise<{ total: number; totalExact: boolean }> => {
  if (s.known !== undefined) return { total: s.known, totalExact: true };
  let rows: number | undefined;
  const windowRows = async () => {
    rows ??= await s.rows();
    return rows;
  };
  const estimateOf = async (x: Sample) =>
    Math.max(Math.round((x.hits / x.walked) * (await windowRows())), s.found);
  const inexact = (total: number) => ({ total, totalExact: false });

  let sample = s.sample;
  let estimate = 0;
  if (sample) {
    estimate = await estimateOf(sample);
    // Unsure, but dense enough that the rows left to walk would at least quadruple the sample's hits.
    const unsure = estimate > EXACT_TOTAL_BOUND && lowEnd(estimate, sample.hits) <= EXACT_TOTAL_BOUND;
    if (unsure && s.extend && (sample.hits / sample.walked) * s.extendRows >= 3 * sample.hits) {
      const more = await s.extend(s.extendRows);
      sample = {
        walked: sample.walked + more.walked,
        hits: sample.hits + more.hits,
        candidates: sample.candidates + more.candidates,
      };
      estimate = await estimateOf(sample);
    }
    if (lowEnd(estimate, sample.hits) > EXACT_TOTAL_BOUND) return inexact(estimate);
    // Counting would recheck too many candidates (a phrase of common words): estimate instead.
    if (s.positive && (sample.candidates / sample.walked) * (await windowRows()) > COUNT_CANDIDATES)
      return inexact(estimate);
  }
  if (s.positive) {
    const n = await s.countMatches(EXACT_TOTAL_BOUND);
    if (n <= EXACT_TOTAL_BOUND) return { total: n, totalExact: true };
    return inexact(Math.max(n, estimate));
  }
  // Exclusions only: the index cannot narrow the count, so it walks the newest rows, within a bound.
  const c = await s.countNewest(s.maxWalked);
  if (c.walked < s.maxWalked) return { total: c.n, totalExact: true };
  const scaled = c.walked ? Math.round((c.n / c.walked) * (await windowRows())) : 0;
  return inexact(Math.max(c.n, scaled));
};
