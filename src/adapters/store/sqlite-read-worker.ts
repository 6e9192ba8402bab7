// The embedded store's reads on a thread of their own: a read-only connection to the same database file
// (WAL lets it read while the writer writes) answers the reader's calls, so no read holds the event loop
// that serves ingest.

import { Database } from "bun:sqlite";
import type { ReadReply, ReadRequest } from "./sqlite-read-thread.ts";
import { createSqliteRead } from "./sqlite-reader.ts";

declare const self: Worker;

let reader: ReturnType<typeof createSqliteRead> | undefined;

const reply = (message: ReadReply): void => self.postMessage(message);

self.onmessage = (e: MessageEvent<ReadRequest>) => {
  const msg = e.data;
  try {
    if (msg.method === "open") {
      const db = new Database(msg.path, { readonly: true, strict: true });
      db.exec("PRAGMA busy_timeout = 5000");
      reader = createSqliteRead(db);
      reply({ id: msg.id, ok: true, result: undefined });
      return;
    }
    if (!reader) throw new Error("the read thread has no database open");
    const call = reader[msg.method] as (...args: unknown[]) => unknown;
    reply({ id: msg.id, ok: true, result: call(...msg.args) });
  } catch (error) {
    reply({ id: msg.id, ok: false, error: error instanceof Error ? error.message : String(error) });
  }
};
