// Upgrades an embedded store made by an earlier release: its message index (log_fts) becomes the token index,
// the rollups become WITHOUT ROWID tables, the hourly rollup is filled from the minute rollup, and the stored
// positions gain their append time.

import type { Database } from "bun:sqlite";
import { tokenText } from "../../domain/search-syntax.ts";
import { ROLLUPS, rollupTable } from "./sqlite-schema.ts";

const CHUNK = 10_000;

/**
 * Rebuilds each rollup made before they were WITHOUT ROWID: a new table beside it, filled in key order, then
 * swapped in, all in one transaction (a kill mid-way leaves the old table). Returns the tables rebuilt.
 */
export const upgradeRollupTables = (db: Database): string[] => {
  const ddl = db.query<{ sql: string }, [string]>(
    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
  );
  const rebuilt: string[] = [];
  for (const r of ROLLUPS) {
    const sql = ddl.get(r.table)?.sql;
    if (sql === undefined || /\bWITHOUT\s+ROWID\b/i.test(sql)) continue;
    const cols = [...r.key, "count"].join(", ");
    db.transaction(() => {
      db.exec(rollupTable(r, `${r.table}_new`));
      db.exec(
        `INSERT INTO ${r.table}_new (${cols}) SELECT ${cols} FROM ${r.table} ORDER BY ${r.key.join(", ")}`,
      );
      db.exec(`DROP TABLE ${r.table}`);
      db.exec(`ALTER TABLE ${r.table}_new RENAME TO ${r.table}`);
    })();
    rebuilt.push(r.table);
  }
  return rebuilt;
};

/** Fills empty hour and minute × level rollups from the minute rollup (a store made before they existed). */
export const upgradeRollups = (db: Database): void => {
  if (!db.query("SELECT 1 FROM log_rollup_minute_level LIMIT 1").get())
    db.exec(`INSERT INTO log_rollup_minute_level (minute, level, count)
      SELECT minute, level, sum(count) FROM log_rollup_minute GROUP BY 1, 2`);
  if (!db.query("SELECT 1 FROM log_rollup_hour LIMIT 1").get())
    db.exec(`INSERT INTO log_rollup_hour (hour, level, source, count)
      SELECT minute - ((minute % 3600000) + 3600000) % 3600000, level, source, sum(count)
      FROM log_rollup_minute GROUP BY 1, 2, 3`);
};

/**
 * Fills log_terms from the stored messages, a chunk per transaction, resuming after the highest row already
 * indexed (a kill mid-way loses nothing), then drops log_fts. Runs before the store takes writes.
 */
export const upgradeTextIndex = (db: Database): number => {
  const old = db
    .query<{ n: number }, []>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'log_fts'")
    .get();
  if (!old?.n) return 0;
  const read = db.query<{ seq: number; message: string }, [number, number]>(
    "SELECT seq, message FROM log_events WHERE seq > ? ORDER BY seq LIMIT ?",
  );
  const insert = db.query("INSERT INTO log_terms (rowid, tokens) VALUES (?, ?)");
  const chunk = db.transaction((rows: { seq: number; message: string }[]) => {
    for (const r of rows) insert.run(r.seq, tokenText(r.message));
  });
  let after = db.query<{ seq: number | null }, []>("SELECT max(rowid) AS seq FROM log_terms").get()?.seq ?? 0;
  let indexed = 0;
  for (;;) {
    const rows = read.all(after, CHUNK);
    const last = rows[rows.length - 1];
    if (!last) break;
    chunk(rows);
    indexed += rows.length;
    after = last.seq;
  }
  db.exec("DROP TABLE log_fts");
  return indexed;
};

/** Adds consumer_offsets.appended_ms to a store made before positions kept it (offsets.ts, Position). */
export const upgradeOffsetTimes = (db: Database): boolean => {
  const columns = db
    .query<{ name: string }, []>("SELECT name FROM pragma_table_info('consumer_offsets')")
    .all();
  if (columns.some((c) => c.name === "appended_ms")) return false;
  db.exec("ALTER TABLE consumer_offsets ADD COLUMN appended_ms INTEGER");
  return true;
};
