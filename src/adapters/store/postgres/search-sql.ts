// The queries of a search: a bounded newest-first walk, a time-slice index probe, and bounded counts.
// Each one reads through filterSql, so each holds a listing's snapshot bound (maxSeq) as well as its window.

import type { LogQuery } from "../../../domain/query.ts";
import type { Tx } from "./connect.ts";
import {
  afterSql,
  at,
  columns,
  type EventRow,
  filterSql,
  type Position,
  storedColumns,
  storedMetadata,
} from "./rows.ts";

export interface WalkResult {
  /** The first `want` rows of the walk that pass the prefilter, newest first. */
  hits: EventRow[];
  /** Rows examined (the walk stops early once `want` rows passed), and those holding every positive word. */
  walked: number;
  candidates: number;
  /** True when the walk examined all `rows` rows; `last` is then the last one examined. */
  full: boolean;
  last: Position | undefined;
  /** Time of the first row examined. */
  firstTs: number | undefined;
}

interface WalkRow extends EventRow {
  hit: boolean;
  n: string;
  c: string;
  f: Date;
}

const match = (tx: Tx, tsq: string | undefined) => (tsq ? tx`tsv @@ ${tsq}::tsquery` : tx`true`);

/**
 * Examines up to `rows` rows after `pos` along the (ts, id) index, newest first, and stops as soon as
 * `want` of them pass the prefilter. Running window counts say how far it went; the `rows`-th row is returned even when it does not pass, to mark where a full walk ended.
 */
export const walk = async (
  tx: Tx,
  q: LogQuery,
  tsq: string | undefined,
  cand: string | undefined,
  pos: Position | undefined,
  rows: number,
  want: number,
): Promise<WalkResult> => {
  // Only passing rows carry message and metadata into the window aggregate, which buffers what it reads.
  const result = await tx<WalkRow[]>`
    select ${columns(tx)}, hit, n, c, f from (
      select ${columns(tx)}, hit, row_number() over w as n, count(*) filter (where cand) over w as c,
        first_value(ts) over w as f
      from (
        select ts, id, seq, level, source, created_at, ${match(tx, tsq)} as hit, ${match(tx, cand)} as cand,
          case when ${match(tx, tsq)} then message end as message,
          case when ${match(tx, tsq)} then ${storedMetadata(tx)} end as metadata
        from log_events where ${filterSql(tx, q)} ${afterSql(tx, pos)}
        order by ts desc, id desc limit ${rows}
      ) x
      window w as (rows between unbounded preceding and current row)
    ) y
    where hit or n = ${rows}
    limit ${want}`;
  const last = result[result.length - 1];
  const walked = last ? Number(last.n) : 0;
  return {
    hits: result.filter((r) => r.hit),
    walked,
    candidates: last ? Number(last.c) : 0,
    full: walked === rows,
    last: last ? { ts: last.ts.getTime(), id: last.id } : undefined,
    firstTs: result[0]?.f.getTime(),
  };
};

/**
 * Plans of this transaction are made for the actual values, every time. A cached generic plan cannot know
 * how selective a tsquery parameter is: after a few runs it swapped the text index of the count for a
 * scan of the time index that reads the whole window (10 ms became 160 ms).
 */
export const useCustomPlans = (tx: Tx) => tx`select set_config('plan_cache_mode', 'force_custom_plan', true)`;

/** Plans that follow: bitmap scans only, so the text index drives probes and counts (see search.ts). */
export const useBitmapPlans = (tx: Tx, on: boolean) => {
  const v = on ? "off" : "on";
  return tx`select set_config('enable_indexscan', ${v}, true), set_config('enable_indexonlyscan', ${v}, true),
    set_config('enable_seqscan', ${v}, true)`;
};

/**
 * Every prefilter match with lo <= ts, before `pos` (or up to q.end): at most `cap` are fetched, unordered;
 * the newest `want` of them are returned, and `n` says how many there are. `dense` means the cap was
 * reached: the slice holds more.
 */
export const probe = async (
  tx: Tx,
  q: LogQuery,
  tsq: string,
  lo: number,
  pos: Position | undefined,
  cap: number,
  want: number,
): Promise<{ rows: EventRow[]; n: number; dense: boolean }> => {
  const rows = await tx<(EventRow & { n: string })[]>`
    select ${columns(tx)}, count(*) over () as n from (
      select ${storedColumns(tx)} from log_events
      where ${filterSql(tx, q)} and ts >= ${at(lo)} ${afterSql(tx, pos)} and tsv @@ ${tsq}::tsquery
      limit ${cap}
    ) s order by ts desc, id desc limit ${want}`;
  const n = Number(rows[0]?.n ?? 0);
  return { rows, n, dense: n >= cap };
};

/** Prefilter matches in the whole window, counted up to `bound` + 1. */
export const countMatches = async (
  tx: Tx,
  q: LogQuery,
  tsq: string | undefined,
  bound: number,
): Promise<number> => {
  const [row] = await tx<{ n: string }[]>`
    select count(*) as n from (select 1 from log_events where ${filterSql(tx, q)} and ${match(tx, tsq)}
      limit ${bound + 1}) s`;
  return Number(row?.n ?? 0);
};

/**
 * Prefilter matches (and candidates) among the newest `rows` rows of the window after `pos`: for queries the
 * index cannot narrow, and to grow a walk's sample without fetching its rows.
 */
export const countNewest = async (
  tx: Tx,
  q: LogQuery,
  tsq: string | undefined,
  cand: string | undefined,
  pos: Position | undefined,
  rows: number,
) => {
  const [row] = await tx<{ n: string; c: string; walked: string }[]>`
    select count(*) filter (where ${match(tx, tsq)}) as n, count(*) filter (where ${match(tx, cand)}) as c,
      count(*) as walked from (
      select tsv from log_events where ${filterSql(tx, q)} ${afterSql(tx, pos)}
      order by ts desc, id desc limit ${rows}
    ) w`;
  return { n: Number(row?.n ?? 0), candidates: Number(row?.c ?? 0), walked: Number(row?.walked ?? 0) };
};
