// Retention for the embedded store: deletes events older than a cutoff day, with their index rows and rollups, in chunks.

import type { Database } from "bun:sqlite";
import { ROLLUPS } from "./sqlite-schema.ts";

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
  // The rollups have no rowid: a chunk is the first rows of the key (time first) before the cutoff.
  const rollups = ROLLUPS.map(({ table, key }) => {
    const k = key.join(", ");
    return db.query(
      `DELETE FROM ${table} WHERE (${k}) IN (SELECT ${k} FROM ${table} WHERE ${key[0]} < ? LIMIT ?)`,
    );
  });

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
