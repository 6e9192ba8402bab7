// Row shape of log_events as selected by the reader, its mapping to StoredLogEvent, and shared SQL fragments.

import { isLevel, type Level } from "../../../domain/level.ts";
import type { Metadata, StoredLogEvent } from "../../../domain/log-event.ts";
import type { LogFilter, LogQuery } from "../../../domain/query.ts";
import type { Queryable as Sql } from "./connect.ts";

export interface EventRow {
  ts: Date;
  id: string;
  seq: string;
  level: string;
  source: string;
  message: string;
  metadata: Metadata | null;
  created_at: Date;
}

export const toEvent = (r: EventRow): StoredLogEvent => ({
  id: r.id,
  level: r.level as Level,
  message: r.message,
  source: r.source,
  timestamp: r.ts.getTime(),
  metadata: r.metadata,
  createdAt: r.created_at.getTime(),
  seq: Number(r.seq),
});

/** The columns of an EventRow, selected from a subquery that gives them by name. */
export const columns = (sql: Sql) => sql`ts, id, seq, level, source, message, metadata, created_at`;

/**
 * A row's metadata, read from log_events itself: stored as json since migration 006, as jsonb in rows stored
 * before it. Those are read as json, so every row comes back the same way.
 */
export const storedMetadata = (sql: Sql) => sql`coalesce(metadata_json, metadata::json)`;

/** The columns of an EventRow, selected from log_events itself. */
export const storedColumns = (sql: Sql) =>
  sql`ts, id, seq, level, source, message, ${storedMetadata(sql)} as metadata, created_at`;

export const at = (ms: number): Date => new Date(ms);

/**
 * A listing's snapshot bound: rows stored up to maxSeq. No index of a listing holds seq, so it is checked on
 * the heap row each plan visits anyway; it rejects only rows stored after the snapshot, so it costs nearly
 * nothing on a fresh one.
 */
export const snapshotSql = (sql: Sql, q: Pick<LogQuery, "maxSeq">) =>
  q.maxSeq === undefined ? sql`` : sql`and seq <= ${q.maxSeq}`;

/**
 * `and level in (…)` with the levels as literals, never parameters: the level index leaves INFO out
 * (migration 004), and only a plan that sees the values can prove a query never asks for it. Each value is
 * checked to be a level, so nothing else is ever spliced in.
 */
export const levelsSql = (sql: Sql, levels: readonly string[]) => {
  if (!levels.length) return sql``;
  for (const l of levels) if (!isLevel(l)) throw new Error(`not a level: ${JSON.stringify(l)}`);
  return sql`and level in ${sql.unsafe(`('${levels.join("','")}')`)}`;
};

/** The time window and level/source lists of a query, and its snapshot bound when it has one. */
export const filterSql = (sql: Sql, f: LogFilter & Pick<LogQuery, "maxSeq">) => sql`ts >= ${at(f.start)}
  and ts <= ${at(f.end)}
  ${levelsSql(sql, f.levels)}
  ${f.sources.length ? sql`and source in ${sql(f.sources)}` : sql``}
  ${snapshotSql(sql, f)}`;

/** Keyset position: rows strictly after (ts, id) in (ts desc, id desc) order. */
export interface Position {
  ts: number;
  id: string;
}

export const afterSql = (sql: Sql, p: Position | undefined) =>
  p ? sql`and (ts, id) < (${at(p.ts)}, ${p.id})` : sql``;
