// The embedded scenario's reference: bare bun:sqlite doing the embedded writer's work on the same rows —
// the product's schema and indexes, the same INSERT … RETURNING, the same token text in log_terms, the same
// three rollup upserts and the offset upsert per transaction — with no HTTP, bus or logproc in between.

import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { SQLITE_SCHEMA } from "../../src/adapters/store/sqlite-schema.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { tokenText } from "../../src/domain/search-syntax.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** The summed size of files that exist (a missing WAL counts 0). */
export const fileBytes = (...files: string[]): number =>
  files.reduce((sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);

interface Bucket {
  count: number;
  args: [number, string, string] | [number, string];
}

const bump = (m: Map<string, Bucket>, key: string, args: Bucket["args"], n: number): void => {
  const b = m.get(key);
  if (b) b.count += n;
  else m.set(key, { count: n, args });
};

export interface BareRun {
  seconds: number;
  /** Bytes of the database and its WAL before close. */
  diskBytes: number;
}

/** Inserts `events` (one array per transaction) into a new database at `file`, timed. */
export const bareInsert = (file: string, transactions: Iterable<LogEvent[]>): BareRun => {
  const db = new Database(file, { create: true, strict: true });
  try {
    db.exec(SQLITE_SCHEMA);
    const readOffsets = db.query<{ partition: number; next_offset: string }, [string, string]>(
      "SELECT partition, next_offset FROM consumer_offsets WHERE grp = ? AND topic = ?",
    );
    const insertEvent = db.query<{ seq: number }, (string | number | null)[]>(
      `INSERT OR IGNORE INTO log_events (id, level, source, message, ts, metadata, created_at, bus_partition, bus_offset)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
    );
    const insertTerms = db.query("INSERT INTO log_terms (rowid, tokens) VALUES (?, ?)");
    const upsert = (table: string, cols: string) =>
      db.query(
        `INSERT INTO ${table} (${cols}, count) VALUES (${cols.replaceAll(/\w+/g, "?")}, ?)
         ON CONFLICT (${cols}) DO UPDATE SET count = count + excluded.count`,
      );
    const minuteRollup = upsert("log_rollup_minute", "minute, level, source");
    const hourRollup = upsert("log_rollup_hour", "hour, level, source");
    const levelRollup = upsert("log_rollup_minute_level", "minute, level");
    const saveOffset = db.query(
      `INSERT INTO consumer_offsets (grp, topic, partition, next_offset) VALUES (?, ?, ?, ?)
       ON CONFLICT (grp, topic, partition) DO UPDATE SET next_offset = excluded.next_offset`,
    );
    let offset = 0;
    const tx = db.transaction((rows: LogEvent[]) => {
      const done = new Map(readOffsets.all("bench", "logs").map((r) => [r.partition, r.next_offset]));
      const now = Date.now();
      const minutes = new Map<string, Bucket>();
      for (const e of rows) {
        const next = done.get(0);
        if (next !== undefined && BigInt(offset) < BigInt(next)) continue;
        const meta = e.metadata === null ? null : JSON.stringify(e.metadata);
        const row = insertEvent.get(
          e.id,
          e.level,
          e.source,
          e.message,
          e.timestamp,
          meta,
          now,
          0,
          String(offset),
        );
        offset++;
        if (row === null) continue;
        insertTerms.run(row.seq, tokenText(e.message));
        const minute = Math.floor(e.timestamp / MINUTE) * MINUTE;
        bump(minutes, `${minute}\u0001${e.level}\u0001${e.source}`, [minute, e.level, e.source], 1);
      }
      const hours = new Map<string, Bucket>();
      const levels = new Map<string, Bucket>();
      for (const b of minutes.values()) {
        const [minute, level, source] = b.args as [number, string, string];
        minuteRollup.run(minute, level, source, b.count);
        const hour = Math.floor(minute / HOUR) * HOUR;
        bump(hours, `${hour}\u0001${level}\u0001${source}`, [hour, level, source], b.count);
        bump(levels, `${minute}\u0001${level}`, [minute, level], b.count);
      }
      for (const h of hours.values()) hourRollup.run(...h.args, h.count);
      for (const l of levels.values()) levelRollup.run(...l.args, l.count);
      saveOffset.run("bench", "logs", 0, String(offset));
    });
    let seconds = 0;
    // Only the transactions are timed, not producing their rows (the generator runs between them).
    for (const rows of transactions) {
      const t = performance.now();
      tx(rows);
      seconds += (performance.now() - t) / 1000;
    }
    return { seconds, diskBytes: fileBytes(file, `${file}-wal`) };
  } finally {
    db.close();
  }
};
