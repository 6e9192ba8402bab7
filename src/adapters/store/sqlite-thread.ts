// The caller's side of an embedded store thread (reads, or writes): each call is a message, each answer
// settles it. bun:sqlite is synchronous, so a statement holds the thread that runs it; on a thread of its
// own it never holds the event loop that serves HTTP, the bus and the consumer.

import type { ThreadReply, ThreadRequest, ThreadRole } from "./sqlite-worker.ts";

/** An object of methods; the thread runs them and answers with their (awaited) results. */
// biome-ignore lint/suspicious/noExplicitAny: the methods' own signatures are kept by the mapped types below.
type Methods = Record<string, (...args: any[]) => unknown>;

export interface SqliteThread<T extends Methods> {
  call<M extends keyof T & string>(method: M, ...args: Parameters<T[M]>): Promise<Awaited<ReturnType<T[M]>>>;
  /** Why the thread can take no more calls (it failed), if it cannot. */
  failure(): Error | undefined;
  /** Lets the thread close its connection, then ends it. */
  close(): Promise<void>;
}

/**
 * The worker's entry. In the compiled binary it is a second entry point (package.json's build), named by
 * its path from src/, the entries' common root; run from source, it is this file's neighbour.
 */
const workerEntry = (): string =>
  import.meta.url.startsWith("file:///$bunfs/")
    ? "./adapters/store/sqlite-worker.ts"
    : new URL("./sqlite-worker.ts", import.meta.url).href;

/** An error thrown on the thread, as the caller sees it: same message and name (a class is not sent). */
const errorOf = (r: Extract<ThreadReply, { ok: false }>): Error => {
  const error = new Error(r.error);
  error.name = r.name;
  return error;
};

/** Starts the thread and opens the database file there in this role (its schema must exist). */
export const startSqliteThread = <T extends Methods>(
  role: ThreadRole,
  path: string,
  options: Record<string, number> = {},
): SqliteThread<T> => {
  const worker = new Worker(workerEntry());
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failed: Error | undefined;
  worker.onmessage = (e: MessageEvent<ThreadReply>) => {
    const r = e.data;
    const p = pending.get(r.id);
    pending.delete(r.id);
    if (r.ok) p?.resolve(r.result);
    else p?.reject(errorOf(r));
  };
  worker.onerror = (e: ErrorEvent) => {
    failed = new Error(`sqlite ${role} thread failed: ${e.message}`);
    for (const p of pending.values()) p.reject(failed);
    pending.clear();
  };
  const send = (msg: ThreadRequest): Promise<unknown> => {
    if (failed) return Promise.reject(failed);
    return new Promise((resolve, reject) => {
      pending.set(msg.id, { resolve, reject });
      worker.postMessage(msg);
    });
  };
  const opened = send({ id: next++, method: "open", args: [role, path, options] });
  opened.catch(() => {});
  return {
    call: async (method, ...args) => {
      await opened;
      return (await send({ id: next++, method, args })) as never;
    },
    failure: () => failed,
    close: async () => {
      // The connection closes on the thread (a clean close checkpoints the WAL); a failed one just ends.
      await send({ id: next++, method: "close", args: [] }).catch(() => {});
      failed ??= new Error(`sqlite ${role} thread closed`);
      for (const p of pending.values()) p.reject(failed);
      pending.clear();
      worker.terminate();
    },
  };
};
