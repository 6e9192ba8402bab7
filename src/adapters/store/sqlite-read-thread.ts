// The caller's side of the embedded read thread: each reader call is a message, each answer settles it.

import type { createSqliteRead } from "./sqlite-reader.ts";

type Reads = ReturnType<typeof createSqliteRead>;
export type ReadMethod = keyof Reads;

export type ReadRequest =
  | { id: number; method: "open"; path: string }
  | { id: number; method: ReadMethod; args: unknown[] };

export type ReadReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface ReadThread {
  call<M extends ReadMethod>(method: M, ...args: Parameters<Reads[M]>): Promise<ReturnType<Reads[M]>>;
  close(): void;
}

/**
 * The worker's entry. In the compiled binary it is a second entry point (package.json's build), named by
 * its path from src/, the entries' common root; run from source, it is this file's neighbour.
 */
const workerEntry = (): string =>
  import.meta.url.startsWith("file:///$bunfs/")
    ? "./adapters/store/sqlite-read-worker.ts"
    : new URL("./sqlite-read-worker.ts", import.meta.url).href;

/** Starts the thread and opens the database file there (its schema must exist: the writer made it). */
export const startReadThread = (path: string): ReadThread => {
  const worker = new Worker(workerEntry());
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  worker.onmessage = (e: MessageEvent<ReadReply>) => {
    const r = e.data;
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (r.ok) p?.resolve(r.result);
    else p?.reject(new Error(r.error));
  };
  worker.onerror = (e: ErrorEvent) => {
    failed = new Error(`sqlite read thread failed: ${e.message}`);
    for (const p of pending.values()) p.reject(failed);
    pending.clear();
  };
  const send = (msg: ReadRequest): Promise<unknown> => {
    if (failed) return Promise.reject(failed);
    return new Promise((resolve, reject) => {
      pending.set(msg.id, { resolve, reject });
      worker.postMessage(msg);
    });
  };
  const opened = send({ id: next++, method: "open", path });
  opened.catch(() => {});
  return {
    call: async (method, ...args) => {
      await opened;
      return (await send({ id: next++, method, args })) as never;
    },
    close: () => {
      for (const p of pending.values()) p.reject(new Error("sqlite read thread closed"));
      pending.clear();
      worker.terminate();
    },
  };
};
