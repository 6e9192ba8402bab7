// The read side: newest-first pages with keyset or offset and exact totals at a snapshot, findById, tail, watermark.

import type { StoredLogEvent } from "../../../domain/log-event.ts";
import { EXACT_TOTAL_BOUND, type LogPage, type LogQuery, type TailQuery } from "../../../domain/query.ts";
import { matchTerms } from "../../../domain/search-syntax.ts";
import type { Sql } from "./connect.ts";
import { exactCount, exactCountSql } from "./rollup.ts";
import {
  afterSql,
  at,
  type EventRow,
  filterSql,
  levelsSql,
  snapshotSql,
  storedColumns,
  toEvent,
} from "./rows.ts";
import { prefilterQuery } from "./tsv.ts";

/** Lists longer than this are filtered with IN instead of one ordered index scan per value. */
const MAX_BRANCHES = 16;
/** Without untilSeq, most rounds a filtered tail runs when the exact filter keeps too few of a round's rows. */
const TAIL_ROUNDS = 8;
/** Most rows one round of a tail fetches once the exact filter has rejected some. */
const TAIL_ROWS = 5_000;

export interface ReaderTuning {
  /**
   * Rows stored after a listing's snapshot that its total examines at most (see total below): each one is a
   * heap visit, some 10,000 of them take a few milliseconds.
   */
  newerScan: number;
}

export const DEFAULT_READER_TUNING: ReaderTuning = { newerScan: EXACT_TOTAL_BOUND };

/**
 * The highest seq below which every row is committed (or will never be): the watermark, or just below the
 * oldest range whose writer is still in progress. Writers commit in any order; readers that stop here never
 * pass a row that is still to come. One statement, so the ranges and the watermark are one snapshot.
 */
export const visibleWatermark = async (sql: Sql): Promise<number> => {
  const [row] = await sql<{ seq: string }[]>`
    select least(w.seq, coalesce((select min(lo) - 1 from log_writes_in_flight
      where not pg_visible_in_snapshot(xid, pg_current_snapshot())), w.seq)) as seq
    from log_watermark w`;
  return Number(row?.seq ?? 0);
};

export const createReader = (sql: Sql, tuning: ReaderTuning = DEFAULT_READER_TUNING) => {
  /**
   * The newest `limit` rows after the keyset position. With several sources (or levels) each value gets its
   * own ordered scan of its (source|level, ts, id) index and the scans are merged: IN over a list would read
   * and sort every matching row of the window.
   */
  const newest = (q: LogQuery, offset: number, limit: number) => {
    const after = afterSql(sql, q.cursor);
    const window = sql`ts >= ${at(q.start)} and ts <= ${at(q.end)} ${snapshotSql(sql, q)} ${after}`;
    const take = offset + limit;
    const bySource = q.sources.length > 1 && q.sources.length <= MAX_BRANCHES;
    const byLevel =
      !bySource && q.sources.length === 0 && q.levels.length > 1 && q.levels.length <= MAX_BRANCHES;
    if (!bySource && !byLevel)
      return sql<EventRow[]>`select ${storedColumns(sql)} from log_events where ${filterSql(sql, q)} ${after}
        order by ts desc, id desc limit ${limit} offset ${offset}`;
    const levels = levelsSql(sql, q.levels);
    const branch = (value: string) =>
      bySource
        ? sql`(select ${storedColumns(sql)} from log_events where ${window} and source = ${value} ${levels}
            order by ts desc, id desc limit ${take})`
        : sql`(select ${storedColumns(sql)} from log_events where ${window} ${levelsSql(sql, [value])}
            order by ts desc, id desc limit ${take})`;
    const values = bySource ? q.sources : q.levels;
    const union = values
      .slice(1)
      .reduce((acc, v) => sql`${acc} union all ${branch(v)}`, branch(values[0] as string));
    return sql<
      EventRow[]
    >`select * from (${union}) u order by ts desc, id desc limit ${limit} offset ${offset}`;
  };

  /**
   * The total of a page, exact at any size: rollups for whole minutes, rows for the two partial ones. The
   * rollups count every stored row, so at a snapshot the rows stored after it are taken off: the seq index
   * finds them (the first newerScan of them, in seq order), few on a fresh snapshot, where checking seq on
   * every counted row would turn the index-only counts into heap visits. One statement, so both counts read
   * one snapshot of the database; the watermark it reads says how many rows arrived after the snapshot in
   * all (seq has no gaps).
   * An old snapshot under heavy ingest has more rows after it than newerScan: the total is then an estimate,
   * flagged as one, even below EXACT_TOTAL_BOUND: the share of the first newerScan of them that the query
   * holds, scaled to all of them, taken off the count. Exact would mean visiting every newer row, or every
   * row of the window under the query's index (a narrow filter's rows lie one to a heap page: seconds cold).
   */
  const total = async (q: LogQuery): Promise<{ total: number; totalExact: boolean }> => {
    const maxSeq = q.maxSeq;
    if (maxSeq === undefined) return { total: await exactCount(sql, q), totalExact: true };
    const f = { start: q.start, end: q.end, levels: q.levels, sources: q.sources };
    // Ordered by seq, so that even a generic plan (made for a third of the table) walks the seq index.
    const [row] = await sql<{ all: string; n: string; examined: string; w: string }[]>`
      select ${exactCountSql(sql, f)} as all, s.n, s.examined, (select seq from log_watermark) as w
      from (select count(*) filter (where ${filterSql(sql, f)}) as n, count(*) as examined
        from (select ts, level, source from log_events where seq > ${maxSeq} order by seq
          limit ${tuning.newerScan}) newer) s`;
    const all = Number(row?.all ?? 0);
    const n = Number(row?.n ?? 0);
    const examined = Number(row?.examined ?? 0);
    if (examined < tuning.newerScan) return { total: all - n, totalExact: true };
    const arrived = Number(row?.w ?? 0) - maxSeq;
    return {
      total: Math.max(0, Math.round(all - (n / examined) * Math.max(arrived, examined))),
      totalExact: false,
    };
  };

  const page = async (q: LogQuery): Promise<LogPage> => {
    const offset = q.cursor ? 0 : q.page * q.size;
    const [rows, counted] = await Promise.all([newest(q, offset, q.size + 1), total(q)]);
    return {
      items: rows.slice(0, q.size).map(toEvent),
      ...counted,
      hasMore: rows.length > q.size,
    };
  };

  const findById = async (id: string): Promise<StoredLogEvent | undefined> => {
    // id → ts from the dedupe table, then one probe of the partition holding that time.
    const [ref] = await sql<{ ts: Date }[]>`select ts from log_event_ids where id = ${id}`;
    if (!ref) return undefined;
    const [row] = await sql<
      EventRow[]
    >`select ${storedColumns(sql)} from log_events where ts = ${ref.ts} and id = ${id}`;
    return row ? toEvent(row) : undefined;
  };

  /**
   * Rounds in seq order until `limit` events passed the exact filter or a round came back short. A round
   * that came back short has examined every row up to untilSeq, which the caller then resumes after: so with
   * untilSeq the rounds go on as long as it takes (each one fetching twice the rows of the last, up to
   * TAIL_ROWS, as the exact filter rejected some), and without it stop after TAIL_ROUNDS.
   */
  const tail = async (q: TailQuery): Promise<StoredLogEvent[]> => {
    if (q.limit <= 0) return [];
    const tsq = q.terms ? prefilterQuery(q.terms) : undefined;
    const out: StoredLogEvent[] = [];
    let after = q.afterSeq;
    let size = q.limit;
    // Never past the visible watermark: a row above it may be committed while one below is still to come.
    // Callers that bound the tail pass a watermark they read (it never moves back).
    const until = q.untilSeq ?? (await watermark());
    for (let round = 0; q.untilSeq !== undefined || round < TAIL_ROUNDS; round++) {
      const rows = await sql<EventRow[]>`select ${storedColumns(sql)} from log_events where seq > ${after}
        and seq <= ${until}
        ${levelsSql(sql, q.levels)}
        ${q.sources.length ? sql`and source in ${sql(q.sources)}` : sql``}
        ${tsq ? sql`and tsv @@ ${tsq}::tsquery` : sql``}
        order by seq limit ${size}`;
      for (const r of rows) {
        if (q.terms && !matchTerms(q.terms, r.message)) continue;
        out.push(toEvent(r));
        if (out.length === q.limit) return out;
      }
      if (rows.length < size) break;
      after = Number((rows[rows.length - 1] as EventRow).seq);
      size = Math.max(q.limit - out.length, Math.min(2 * size, TAIL_ROWS));
    }
    return out;
  };

  const watermark = (): Promise<number> => visibleWatermark(sql);

  return { page, findById, tail, watermark };
};
