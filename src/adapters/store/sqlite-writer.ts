// The embedded store's write side: one transaction per batch, deduplicated by offset and by event id.

import type { Database } from "bun:sqlite";
import { UnstorableError } from "../../domain/errors.ts";
import type { WriteBatch, WriteResult } from "../../ports/log-store.ts";

const MINUTE = 60_000;

export const createSqliteWrite = (db: Database) => {
  const readOffsets = db.query<{ partition: number; next_offset: string }, [string, string]>(
    "SELECT partition, next_offset FROM consumer_offsets WHERE grp = ? AND topic = ?",
  );
  const insertEvent = db.query(
    `INSERT OR IGNORE INTO log_events (id, level, source, message, ts, metadata, created_at, bus_partition, bus_offset)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
  );
  const insertFts = db.query("INSERT INTO log_fts (rowid, message) VALUES (?, ?)");
  const bumpRollup = db.query(
    `INSERT INTO log_rollup_minute (minute, level, source, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (minute, level, source) DO UPDATE SET count = count + excluded.count`,
  );
  const saveOffset = db.query(
    `INSERT INTO consumer_offsets (grp, topic, partition, next_offset) VALUES (?, ?, ?, ?)
     ON CONFLICT (grp, topic, partition) DO UPDATE SET next_offset = excluded.next_offset`,
  );

  const committed = (group: string, topic: string): Map<number, string> =>
    new Map(readOffsets.all(group, topic).map((r) => [r.partition, r.next_offset]));

  const writeTx = db.transaction((batch: WriteBatch): WriteResult => {
    const done = batch.transient ? new Map<number, string>() : committed(batch.group, batch.topic);
    const now = Date.now();
    const rollup = new Map<string, { minute: number; level: string; source: string; count: number }>();
    let inserted = 0;
    let duplicates = 0;
    for (const { event, partition, offset } of batch.events) {
      const next = done.get(partition);
      if (next !== undefined && BigInt(offset) < BigInt(next)) {
        duplicates++;
        continue;
      }
      const row = insertEvent.get(
        event.id,
        event.level,
        event.source,
        event.message,
        event.timestamp,
        event.metadata === null ? null : JSON.stringify(event.metadata),
        now,
        partition,
        offset,
      ) as { seq: number } | null;
      if (row === null) {
        duplicates++;
        continue;
      }
      inserted++;
      insertFts.run(row.seq, event.message);
      const minute = Math.floor(event.timestamp / MINUTE) * MINUTE;
      const key = `${minute}\u0001${event.level}\u0001${event.source}`;
      const bucket = rollup.get(key);
      if (bucket) bucket.count++;
      else rollup.set(key, { minute, level: event.level, source: event.source, count: 1 });
    }
    for (const b of rollup.values()) bumpRollup.run(b.minute, b.level, b.source, b.count);
    if (!batch.transient)
      for (const [partition, next] of batch.nextOffsets) {
        const current = done.get(partition);
        if (current === undefined || BigInt(next) > BigInt(current))
          saveOffset.run(batch.group, batch.topic, partition, next);
      }
    return { inserted, duplicates };
  });

  return {
    write: (batch: WriteBatch): WriteResult => {
      try {
        return writeTx(batch);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // Constraint and type errors are about the data; anything else (disk full, locked) may pass.
        if (/constraint|datatype|too big|malformed/i.test(message)) throw new UnstorableError(message);
        throw error;
      }
    },
    committed,
  };
};
