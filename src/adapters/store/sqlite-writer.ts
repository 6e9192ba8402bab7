// The embedded store's write side: one transaction per batch, deduplicated by offset and by event id.

import type { Database } from "bun:sqlite";
import { UnstorableError } from "../../domain/errors.ts";
import { advances, handledBefore, type Position, positionOf } from "../../domain/offsets.ts";
import { tokenText } from "../../domain/search-syntax.ts";
import type { SourcedEvent, WriteBatch, WriteResult } from "../../ports/log-store.ts";
import { createSqliteRetention, type SqliteRetentionOptions } from "./sqlite-retention.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** The event's fields that log_events holds NOT NULL, and their columns. */
const REQUIRED = [
  ["id", "id"],
  ["level", "level"],
  ["source", "source"],
  ["message", "message"],
  ["timestamp", "ts"],
] as const;

/** Why OR IGNORE skipped a row whose id is not stored: the NOT NULL columns the event leaves empty. */
const refusal = (event: SourcedEvent["event"]): UnstorableError => {
  const missing = REQUIRED.filter(([field]) => event[field] === null || event[field] === undefined);
  const what = missing.length
    ? missing.map(([, column]) => `log_events.${column}`).join(", ")
    : "a column of log_events";
  return new UnstorableError(`NOT NULL constraint failed: ${what} (event ${String(event.id)})`);
};

export const createSqliteWrite = (db: Database) => {
  const readOffsets = db.query<
    { partition: number; next_offset: string; appended_ms: number | null },
    [string, string]
  >("SELECT partition, next_offset, appended_ms FROM consumer_offsets WHERE grp = ? AND topic = ?");
  // INSERT OR IGNORE runs at twice the rows/s of `ON CONFLICT (id) DO NOTHING` or a plain INSERT here (the
  // embedded bench: 44k against 18k events/s), but it skips a row that breaks any constraint, a NOT NULL
  // column too. So a skipped row is looked up by id: only a repeated id is a duplicate; any other is refused
  // (below), never an acknowledged event lost without a trace.
  const insertEvent = db.query(
    `INSERT OR IGNORE INTO log_events (id, level, source, message, ts, metadata, created_at, bus_partition, bus_offset)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
  );
  const storedId = db.query<{ one: number }, [string]>("SELECT 1 AS one FROM log_events WHERE id = ?");
  const insertTerms = db.query("INSERT INTO log_terms (rowid, tokens) VALUES (?, ?)");
  const bumpRollup = db.query(
    `INSERT INTO log_rollup_minute (minute, level, source, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (minute, level, source) DO UPDATE SET count = count + excluded.count`,
  );
  const bumpHour = db.query(
    `INSERT INTO log_rollup_hour (hour, level, source, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (hour, level, source) DO UPDATE SET count = count + excluded.count`,
  );
  const bumpMinuteLevel = db.query(
    `INSERT INTO log_rollup_minute_level (minute, level, count) VALUES (?, ?, ?)
     ON CONFLICT (minute, level) DO UPDATE SET count = count + excluded.count`,
  );
  const saveOffset = db.query(
    `INSERT INTO consumer_offsets (grp, topic, partition, next_offset, appended_ms) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (grp, topic, partition) DO UPDATE
     SET next_offset = excluded.next_offset, appended_ms = excluded.appended_ms`,
  );

  const committed = (group: string, topic: string): Map<number, Position> =>
    new Map(
      readOffsets.all(group, topic).map((r) => [r.partition, positionOf(r.next_offset, r.appended_ms)]),
    );

  const writeTx = db.transaction((batch: WriteBatch): WriteResult => {
    const done = batch.transient ? new Map<number, Position>() : committed(batch.group, batch.topic);
    const now = Date.now();
    const rollup = new Map<string, { minute: number; level: string; source: string; count: number }>();
    let inserted = 0;
    let duplicates = 0;
    for (const { event, partition, offset, appendedMs } of batch.events) {
      if (handledBefore(done.get(partition), offset, appendedMs)) {
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
        if (storedId.get(event.id) === null) throw refusal(event);
        duplicates++;
        continue;
      }
      inserted++;
      insertTerms.run(row.seq, tokenText(event.message));
      const minute = Math.floor(event.timestamp / MINUTE) * MINUTE;
      const key = `${minute}\u0001${event.level}\u0001${event.source}`;
      const bucket = rollup.get(key);
      if (bucket) bucket.count++;
      else rollup.set(key, { minute, level: event.level, source: event.source, count: 1 });
    }
    const hours = new Map<string, { hour: number; level: string; source: string; count: number }>();
    const levels = new Map<string, { minute: number; level: string; count: number }>();
    for (const b of rollup.values()) {
      bumpRollup.run(b.minute, b.level, b.source, b.count);
      const lk = `${b.minute}\u0001${b.level}`;
      const l = levels.get(lk);
      if (l) l.count += b.count;
      else levels.set(lk, { minute: b.minute, level: b.level, count: b.count });
      const hour = Math.floor(b.minute / HOUR) * HOUR;
      const key = `${hour}\u0001${b.level}\u0001${b.source}`;
      const h = hours.get(key);
      if (h) h.count += b.count;
      else hours.set(key, { hour, level: b.level, source: b.source, count: b.count });
    }
    for (const h of hours.values()) bumpHour.run(h.hour, h.level, h.source, h.count);
    for (const l of levels.values()) bumpMinuteLevel.run(l.minute, l.level, l.count);
    if (!batch.transient)
      for (const [partition, next] of batch.nextOffsets) {
        const appendedMs = batch.appendedMs?.get(partition);
        if (advances(done.get(partition), positionOf(next, appendedMs)))
          saveOffset.run(batch.group, batch.topic, partition, next, appendedMs ?? null);
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

/** A batch as the write thread receives it: JSON text, several times cheaper to send than a structured clone. */
interface BatchWire {
  group: string;
  topic: string;
  events: SourcedEvent[];
  nextOffsets: [number, string][];
  appendedMs?: [number, number][];
  transient?: true;
}

export const batchText = (batch: WriteBatch): string =>
  JSON.stringify({
    group: batch.group,
    topic: batch.topic,
    events: batch.events,
    nextOffsets: [...batch.nextOffsets],
    ...(batch.appendedMs ? { appendedMs: [...batch.appendedMs] } : {}),
    ...(batch.transient ? { transient: true } : {}),
  } satisfies BatchWire);

const batchOf = (text: string): WriteBatch => {
  const wire = JSON.parse(text) as BatchWire;
  const { appendedMs, ...rest } = wire;
  return {
    ...rest,
    nextOffsets: new Map(wire.nextOffsets),
    ...(appendedMs ? { appendedMs: new Map(appendedMs) } : {}),
  };
};

/** What the write thread answers (sqlite-worker.ts): batches as batchText, offsets, retention. */
export const createSqliteWriteThread = (db: Database, retention: SqliteRetentionOptions = {}) => {
  const w = createSqliteWrite(db);
  return {
    write: (text: string): WriteResult => w.write(batchOf(text)),
    committed: (group: string, topic: string): Map<number, Position> => w.committed(group, topic),
    retain: createSqliteRetention(db, retention),
  };
};
