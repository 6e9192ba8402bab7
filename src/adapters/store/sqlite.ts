// The embedded store (bun:sqlite): both store ports over one database file under DATA_DIR.

import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Health } from "../../ports/log-bus.ts";
import type { LogReader, LogWriter } from "../../ports/log-store.ts";
import { type ReadMethod, startReadThread } from "./sqlite-read-thread.ts";
import { createSqliteRead } from "./sqlite-reader.ts";
import { createSqliteRetention, type SqliteRetentionOptions } from "./sqlite-retention.ts";
import { SQLITE_SCHEMA } from "./sqlite-schema.ts";
import { upgradeRollups, upgradeRollupTables, upgradeTextIndex } from "./sqlite-upgrade.ts";
import { createSqliteWrite } from "./sqlite-writer.ts";

export interface SqliteStore {
  writer: LogWriter;
  reader: LogReader;
  db: Database;
}

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
  const w = createSqliteWrite(db);
  const retain = createSqliteRetention(db, opts.retention);
  // A database file is read on a thread of its own; an in-memory one (tests) can only be read here.
  const thread = path === ":memory:" ? undefined : startReadThread(path);
  const local = thread ? undefined : createSqliteRead(db);
  const read = <M extends ReadMethod>(
    method: M,
    ...args: Parameters<ReturnType<typeof createSqliteRead>[M]>
  ): Promise<ReturnType<ReturnType<typeof createSqliteRead>[M]>> => {
    if (thread) return thread.call(method, ...args);
    const reads = local as ReturnType<typeof createSqliteRead>;
    return Promise.resolve((reads[method] as (...a: typeof args) => never)(...args));
  };
  let open = true;
  const health = async (): Promise<Health> => {
    if (!open) return { ok: false, detail: "closed" };
    try {
      db.query("SELECT 1").get();
      return { ok: true, detail: "sqlite" };
    } catch (error) {
      return { ok: false, detail: error instanceof Error ? error.message : String(error) };
    }
  };
  // Writer and reader share the connection; it closes when both have stopped.
  let users = 2;
  const release = async (): Promise<void> => {
    users--;
    if (users === 0 && open) {
      open = false;
      thread?.close();
      db.close();
    }
  };
  const writer: LogWriter = {
    start: async () => {},
    stop: release,
    write: async (batch) => w.write(batch),
    committedOffsets: async (group, topic) => w.committed(group, topic),
    retain,
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
