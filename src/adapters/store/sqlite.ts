// The embedded store (bun:sqlite): both store ports over one database file under DATA_DIR.
//
// A database file is written on a thread of its own and read on another (sqlite-worker.ts), each with its
// own connection, so neither a commit nor a query holds the event loop; this thread's connection makes the
// schema and upgrades before they open, then only answers health checks. An in-memory database (tests) can
// have but one connection: it is written and read here.

import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { UnstorableError } from "../../domain/errors.ts";
import type { Position } from "../../domain/offsets.ts";
import type { Health } from "../../ports/log-bus.ts";
import type { LogReader, LogWriter, WriteBatch, WriteResult } from "../../ports/log-store.ts";
import { createSqliteRead } from "./sqlite-reader.ts";
import { createSqliteRetention, type SqliteRetentionOptions } from "./sqlite-retention.ts";
import { SQLITE_SCHEMA } from "./sqlite-schema.ts";
import { startSqliteThread } from "./sqlite-thread.ts";
import {
  upgradeOffsetTimes,
  upgradeRollups,
  upgradeRollupTables,
  upgradeTextIndex,
} from "./sqlite-upgrade.ts";
import { batchText, createSqliteWrite, type createSqliteWriteThread } from "./sqlite-writer.ts";

export interface SqliteStore {
  writer: LogWriter;
  reader: LogReader;
  db: Database;
}

type Reads = ReturnType<typeof createSqliteRead>;

interface Writes {
  write(batch: WriteBatch): Promise<WriteResult>;
  stage?(batch: WriteBatch): void;
  committed(group: string, topic: string): Promise<Map<number, Position>>;
  retain(days: number): Promise<string[]>;
  /** Why writes cannot go on, if they cannot. */
  failure(): Error | undefined;
  close(): Promise<void>;
}

/**
 * Writes on a thread of their own, an error thrown there keeping its meaning here. A staged batch (the next
 * one the consumer will write, announced while the current one is being written) is sent to the thread while
 * the current one is still on it, so the thread starts on it as soon as it has committed the current one.
 */
const threadWrites = (path: string, opts: SqliteRetentionOptions): Writes => {
  const thread = startSqliteThread<ReturnType<typeof createSqliteWriteThread>>("write", path, {
    ...(opts.chunkRows === undefined ? {} : { chunkRows: opts.chunkRows }),
  });
  const send = async (batch: WriteBatch): Promise<WriteResult> => {
    try {
      return await thread.call("write", batchText(batch));
    } catch (error) {
      if (error instanceof Error && error.name === "UnstorableError")
        throw new UnstorableError(error.message);
      throw error;
    }
  };
  /** Writes sent and not yet answered. */
  let writing = 0;
  const sent = (batch: WriteBatch): Promise<WriteResult> => {
    writing++;
    const answer = send(batch);
    void answer.then(
      () => writing--,
      () => writing--,
    );
    return answer;
  };
  let staged: { batch: WriteBatch; answer?: Promise<WriteResult> } | undefined;
  const sendStaged = (s: NonNullable<typeof staged>): void => {
    s.answer = sent(s.batch);
    // Its answer is awaited when write() gets the batch; should it never (the bus stopped), it is dropped.
    s.answer.catch(() => {});
  };
  return {
    write: (batch) => {
      const s = staged;
      if (s && s.batch.events === batch.events) {
        staged = undefined;
        if (!s.answer) sendStaged(s);
        return s.answer as Promise<WriteResult>;
      }
      // Anything else undoes a staged batch not yet sent (one already sent cannot be called back).
      if (s && !s.answer) staged = undefined;
      return sent(batch);
    },
    /**
     * Only a batch of a bus that keeps no offsets: it may be committed before the write in flight has failed.
     * The bus then hands both over again and the ids make the second copy a no-op, whereas offsets stored
     * ahead of a failed batch would make the store skip it.
     */
    stage: (batch) => {
      if (!batch.transient) return;
      staged = { batch };
      // Sent at once if the current write is already on the thread; otherwise with the write that gets it.
      if (writing > 0) sendStaged(staged);
    },
    committed: (group, topic) => thread.call("committed", group, topic),
    retain: (days) => thread.call("retain", days),
    failure: () => thread.failure(),
    close: () => thread.close(),
  };
};

const localWrites = (db: Database, opts: SqliteRetentionOptions): Writes => {
  const w = createSqliteWrite(db);
  return {
    write: async (batch) => w.write(batch),
    committed: async (group, topic) => w.committed(group, topic),
    retain: createSqliteRetention(db, opts),
    failure: () => undefined,
    close: async () => {},
  };
};

export const createSqliteStore = (
  path: string,
  opts: { retention?: SqliteRetentionOptions } = {},
): SqliteStore => {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec(SQLITE_SCHEMA);
  upgradeTextIndex(db);
  upgradeRollupTables(db);
  upgradeRollups(db);
  upgradeOffsetTimes(db);
  const threaded = path !== ":memory:";
  const writes = threaded ? threadWrites(path, opts.retention ?? {}) : localWrites(db, opts.retention ?? {});
  const readThread = threaded ? startSqliteThread<Reads>("read", path) : undefined;
  const local = readThread ? undefined : createSqliteRead(db);
  const read = <M extends keyof Reads>(
    method: M,
    ...args: Parameters<Reads[M]>
  ): Promise<ReturnType<Reads[M]>> => {
    if (readThread) return readThread.call(method, ...args);
    const reads = local as Reads;
    return Promise.resolve((reads[method] as (...a: typeof args) => never)(...args));
  };
  let open = true;
  const health = async (): Promise<Health> => {
    if (!open) return { ok: false, detail: "closed" };
    const failed = writes.failure() ?? readThread?.failure();
    if (failed) return { ok: false, detail: failed.message };
    try {
      db.query("SELECT 1").get();
      return { ok: true, detail: "sqlite" };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  };
  // Writer and reader share the file; it closes when both have stopped, the threads' connections first.
  let users = 2;
  const release = async (): Promise<void> => {
    users--;
    if (users === 0 && open) {
      open = false;
      await Promise.all([writes.close(), readThread?.close()]);
      db.close();
    }
  };
  const writer: LogWriter = {
    start: async () => {},
    stop: release,
    write: (batch) => writes.write(batch),
    ...(writes.stage ? { stage: writes.stage } : {}),
    committedPositions: (group, topic) => writes.committed(group, topic),
    retain: (days) => writes.retain(days),
    health,
  };
  const reader: LogReader = {
    start: async () => {},
    stop: release,
    page: (q) => read("page", q),
    search: (q) => read("search", q),
    stats: (q) => read("stats", q),
    findById: (id) => read("findById", id),
    tail: (q) => read("tail", q),
    watermark: () => read("watermark"),
    health,
  };
  return { writer, reader, db };
};
