// Retention for the embedded store: deletes events older than a cutoff day, with their FTS rows and rollups, in chunks.

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
  const oldest = db.query<{ seq: number; message: string }, [number, number]>(
    "SELECT seq, message FROM log_events WHERE ts < ? LIMIT ?",
  );
  // log_fts keeps no copy of the text (external content): its entry is removed by replaying the message.
  const unindex = db.query("INSERT INTO log_fts (log_fts, rowid, message) VALUES ('delete', ?, ?)");
  const remove = db.query("DELETE FROM log_events WHERE seq = ?");
  const removeRollups = db.query(
    `DELETE FROM log_rollup_minute WHERE rowid IN
       (SELECT rowid FROM log_rollup_minute WHERE minute < ? LIMIT ?)`,
  );

  const eventChunk = db.transaction((cutoff: number): number => {
    const rows = oldest.all(cutoff, chunkRows);
    for (const r of rows) {
      unindex.run(r.seq, r.message);
      remove.run(r.seq);
    }
    return rows.length;
  });
  const rollupChunk = (cutoff: number): number => removeRollups.run(cutoff, chunkRows).changes;

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
   * events, their FTS entries and their minute rollups, so stats and search agree with the rows left.
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
