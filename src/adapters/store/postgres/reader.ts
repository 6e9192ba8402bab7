// The read side: newest-first pages with keyset or offset and exact totals, findById, tail, watermark.

import type { StoredLogEvent } from "../../../domain/log-event.ts";
import type { LogPage, LogQuery, TailQuery } from "../../../domain/query.ts";
import { matchTerms } from "../../../domain/search-syntax.ts";
import type { Sql } from "./connect.ts";
import { exactCount } from "./rollup.ts";
import { afterSql, at, columns, type EventRow, filterSql, toEvent } from "./rows.ts";
import { prefilterQuery } from "./tsv.ts";

/** Lists longer than this are filtered with IN instead of one ordered index scan per value. */
const MAX_BRANCHES = 16;
/** Most rounds a filtered tail runs when the exact filter keeps none of a round's rows. */
const TAIL_ROUNDS = 8;

export const createReader = (sql: Sql) => {
  /**
   * The newest `limit` rows after the keyset position. With several sources (or levels) each value gets its
   * own ordered scan of its (source|level, ts, id) index and the scans are merged: IN over a list would read
   * and sort every matching row of the window.
   */
  const newest = (q: LogQuery, offset: number, limit: number) => {
    const after = afterSql(sql, q.cursor);
    const window = sql`ts >= ${at(q.start)} and ts <= ${at(q.end)} ${after}`;
    const take = offset + limit;
    const bySource = q.sources.length > 1 && q.sources.length <= MAX_BRANCHES;
    const byLevel =
      !bySource && q.sources.length === 0 && q.levels.length > 1 && q.levels.length <= MAX_BRANCHES;
    if (!bySource && !byLevel)
      return sql<EventRow[]>`select ${columns(sql)} from log_events where ${filterSql(sql, q)} ${after}
        order by ts desc, id desc limit ${limit} offset ${offset}`;
    const levels = q.levels.length ? sql`and level in ${sql(q.levels)}` : sql``;
    const branch = (value: string) =>
      bySource
        ? sql`(select ${columns(sql)} from log_events where ${window} and source = ${value} ${levels}
            order by ts desc, id desc limit ${take})`
        : sql`(select ${columns(sql)} from log_events where ${window} and level = ${value}
            order by ts desc, id desc limit ${take})`;
    const values = bySource ? q.sources : q.levels;
    const union = values
      .slice(1)
      .reduce((acc, v) => sql`${acc} union all ${branch(v)}`, branch(values[0] as string));
    return sql<
      EventRow[]
    >`select * from (${union}) u order by ts desc, id desc limit ${limit} offset ${offset}`;
  };

  const page = async (q: LogQuery): Promise<LogPage> => {
    const offset = q.cursor ? 0 : q.page * q.size;
    // The total is exact at any size: rollups for whole minutes, rows for the two partial ones.
    const [rows, total] = await Promise.all([newest(q, offset, q.size + 1), exactCount(sql, q)]);
    return {
      items: rows.slice(0, q.size).map(toEvent),
      total,
      totalExact: true,
      hasMore: rows.length > q.size,
    };
  };

  const findById = async (id: string): Promise<StoredLogEvent | undefined> => {
    // id → ts from the dedupe table, then one probe of the partition holding that time.
    const [ref] = await sql<{ ts: Date }[]>`select ts from log_event_ids where id = ${id}`;
    if (!ref) return undefined;
    const [row] = await sql<
      EventRow[]
    >`select ${columns(sql)} from log_events where ts = ${ref.ts} and id = ${id}`;
    return row ? toEvent(row) : undefined;
  };

  const tail = async (q: TailQuery): Promise<StoredLogEvent[]> => {
    const tsq = q.terms ? prefilterQuery(q.terms) : undefined;
    const out: StoredLogEvent[] = [];
    let after = q.afterSeq;
    for (let round = 0; round < TAIL_ROUNDS && out.length < q.limit; round++) {
      const limit = q.limit - out.length;
      const rows = await sql<EventRow[]>`select ${columns(sql)} from log_events where seq > ${after}
        ${q.levels.length ? sql`and level in ${sql(q.levels)}` : sql``}
        ${q.sources.length ? sql`and source in ${sql(q.sources)}` : sql``}
        ${tsq ? sql`and tsv @@ ${tsq}::tsquery` : sql``}
        order by seq limit ${limit}`;
      for (const r of rows) if (!q.terms || matchTerms(q.terms, r.message)) out.push(toEvent(r));
      if (rows.length < limit) break;
      after = Number((rows[rows.length - 1] as EventRow).seq);
    }
    return out;
  };

  const watermark = async (): Promise<number> => {
    const [row] = await sql<{ seq: string }[]>`select seq from log_watermark`;
    return Number(row?.seq ?? 0);
  };

  return { page, findById, tail, watermark };
};
