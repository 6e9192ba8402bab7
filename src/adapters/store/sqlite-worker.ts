// An embedded store thread: a connection of its own to the database file, in one of two roles. The read
// thread (read-only; WAL lets it read while the writer writes) answers the reader's calls; the write thread
// commits the consumer's batches and runs retention. Neither holds the event loop that serves ingest.

import { Database } from "bun:sqlite";
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { createSqliteRead } from "./sqlite-reader.ts";
import { createSqliteWriteThread } from "./sqlite-writer.ts";

declare const self: Worker;

export type ThreadRole = "read" | "write";

export interface ThreadRequest {
  id: number;
  /** "open" (role, path, options) and "close" first and last; otherwise a method of the role. */
  method: string;
  args: unknown[];
}

export type ThreadReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string; name: string };

type Call = (...args: unknown[]) => unknown;

/**
 * The read thread's nice value. On a busy machine a query loop would take a core from the writer and the event
 * loop, and ingest would wait on reads; at a lower priority reads take the CPU the others leave. On Linux a
 * thread's nice value is its own, and weighs only against the threads of the same scheduling group (the
 * session's autogroup, the container's cgroup), not against the whole machine.
 */
const READ_NICE = 10;

const lowerPriority = (nice: number): void => {
  if (process.platform !== "linux") return;
  try {
    // "<pid>/task/<tid>": setpriority() of a thread id changes that thread alone.
    setPriority(Number(readlinkSync("/proc/thread-self").split("/").pop()), nice);
  } catch {
    // Not allowed here (a seccomp profile): reads simply keep the same priority as the rest.
  }
};

let db: Database | undefined;
let methods: Record<string, Call> | undefined;

const open = (role: ThreadRole, path: string, options: { chunkRows?: number }): void => {
  if (role === "read") {
    lowerPriority(READ_NICE);
    db = new Database(path, { readonly: true, strict: true });
    db.exec("PRAGMA busy_timeout = 5000");
    methods = createSqliteRead(db) as unknown as Record<string, Call>;
  } else {
    db = new Database(path, { strict: true });
    // Per connection: the main thread's connection made the schema and set WAL, which the file keeps.
    db.exec("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000");
    methods = createSqliteWriteThread(db, options) as unknown as Record<string, Call>;
  }
};

const reply = (message: ThreadReply): void => self.postMessage(message);

self.onmessage = async (e: MessageEvent<ThreadRequest>) => {
  const { id, method, args } = e.data;
  try {
    if (method === "open") {
      open(args[0] as ThreadRole, args[1] as string, args[2] as { chunkRows?: number });
      reply({ id, ok: true, result: undefined });
      return;
    }
    if (method === "close") {
      methods = undefined;
      db?.close();
      db = undefined;
      reply({ id, ok: true, result: undefined });
      return;
    }
    const call = methods?.[method];
    if (!call) throw new Error(methods ? `no method ${method}` : "the thread has no database open");
    // Retention is asynchronous (it yields between chunks, so writes go between them); the rest is not.
    reply({ id, ok: true, result: await call(...args) });
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    reply({ id, ok: false, error: err.message, name: err.name });
  }
};
