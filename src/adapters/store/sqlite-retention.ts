// Retention for the embedded store: deletes events older than a cutoff day, with their index rows and rollups, in chunks.

import type { Database } from "bun:sqlite";

const DAY_MS = 86_400_000;

export interface SqliteRetentionOptions {
  /** Rows deleted per transaction: SQLite is synchronous, so each chunk holds the event loop. */
  chunkRows?: number;
  now?: () => number;
}

/** Lets timers, HTTP and the consumer run between two chunks. */
const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export const createSqliteRetention = (db: Database, opts: SqliteRetentionOptions = {}) => {
  const chunkRows = opts.chunkRows ?? 2000;
  const now = opts.now ?? Date.now;
  const oldest = db.query<{ seq: number }, [number, number]>(
    "SELECT seq FROM log_events WHERE ts < ? LIMIT ?",
  );
  // log_terms is contentless with contentless_delete: a row's entry goes by its rowid alone.
  const unindex = db.query("DELETE FROM log_terms WHERE rowid = ?");
  const remove = db.query("DELETE FROM log_events WHERE seq = ?");
  const rollups = [
    ["log_rollup_minute", "minute"],
    ["log_rollup_minute_level", "minute"],
    ["log_rollup_hour", "hour"],
  ].map(([table, column]) =>
    db.query(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} < ? LIMIT ?)`),
  );

  const eventChunk = db.transaction((cutoff: number): number => {
    const rows = oldest.all(cutoff, chunkRows);
    for (const r of rows) {
      unindex.run(r.seq);
      remove.run(r.seq);
    }
    return rows.length;
  });
  const rollupChunk = (cutoff: number): number =>
    rollups.reduce((n, q) => n + q.run(cutoff, chunkRows).changes, 0);

  const drain = async (step: (cutoff: number) => number, cutoff: number): Promise<number> => {
    let total = 0;
    for (;;) {
      const n = step(cutoff);
      total += n;
      if (n < chunkRows) return total;
      await yieldToLoop();
    }
  };

  /**
   * Deletes everything before the start of (today - days), UTC, as PostgreSQL drops whole daily partitions:
   * events, their index entries and their rollups, so stats and search agree with the rows left.
   */
  return async (days: number): Promise<string[]> => {
    if (!Number.isInteger(days) || days <= 0) return [];
    const cutoff = (Math.floor(now() / DAY_MS) - days) * DAY_MS;
    const events = await drain(eventChunk, cutoff);
    const rollups = await drain(rollupChunk, cutoff);
    if (events === 0 && rollups === 0) return [];
    return [`${events} events and ${rollups} rollup rows before ${new Date(cutoff).toISOString()}`];
  };
};
