// COPY FROM STDIN: big-endian fields of the binary format, and a streamed write that a timeout always settles.

import type { Writable } from "node:stream";
import { WriteTimeoutError } from "../../../domain/errors.ts";

/** A big-endian int32 (written byte by byte: cheaper than a Buffer method call per field). */
export const put32 = (out: Uint8Array, at: number, n: number): void => {
  out[at] = n >>> 24;
  out[at + 1] = n >>> 16;
  out[at + 2] = n >>> 8;
  out[at + 3] = n;
};

/** Thrown when a COPY did not settle in time: the connection must be destroyed, never reused. */
export class CopyTimeoutError extends WriteTimeoutError {
  constructor(ms: number) {
    super(`COPY did not complete within ${ms} ms`);
    this.name = "CopyTimeoutError";
  }
}

/** Yields the next chunk of COPY data (text, or its UTF-8 bytes), or undefined once everything is written. */
export type ChunkSource = () => string | Uint8Array | undefined;

/** Writes chunks as the source yields them, waiting for drain; resolves on finish, rejects on the stream's error. */
const stream = (sink: Writable, next: ChunkSource, stopped: () => boolean): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    sink.once("error", reject);
    sink.once("finish", () => resolve());
    const pump = (): void => {
      try {
        for (;;) {
          if (stopped()) return;
          const chunk = next();
          if (chunk === undefined) break;
          if (!sink.write(chunk)) {
            sink.once("drain", pump);
            return;
          }
        }
      } catch (error) {
        // The connection is mid-COPY: the caller must destroy it (a non-SQL error does).
        reject(error);
        return;
      }
      sink.end();
    };
    pump();
  });

/** A COPY FROM STDIN statement not yet sent: `sql\`copy … from stdin\``. */
export interface CopyQuery {
  writable(): Promise<Writable>;
}

/**
 * Settles with the error PostgreSQL reports for the COPY. Once the stream has ended, postgres.js hands that
 * error only to the query's reject, which does nothing after writable() resolved, and the COPY never
 * settles (issue #1173); wrapping reject surfaces the error at once. Without that hook (another postgres.js)
 * this never settles and the timeout still bounds the COPY.
 */
const refusal = (query: CopyQuery): Promise<never> =>
  new Promise<never>((_, reject) => {
    const q = query as CopyQuery & { reject?: unknown };
    const original = q.reject;
    if (typeof original !== "function") return;
    q.reject = (error: unknown) => {
      original(error);
      reject(error);
    };
  });

/**
 * Streams chunks into a COPY. The source is called while earlier chunks are still being processed by the
 * server, so encoding overlaps the insert. The exchange also races a timer; on CopyTimeoutError the caller
 * destroys the connection.
 */
export const copyChunks = async (query: CopyQuery, next: ChunkSource, timeoutMs: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let expired = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(new CopyTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  const refused = refusal(query);
  let failed = false;
  refused.catch(() => {
    failed = true;
  });
  const running = query.writable().then((sink) => stream(sink, next, () => expired || failed));
  // Whichever loses the race must not surface as an unhandled rejection.
  running.catch(() => {});
  timeout.catch(() => {});
  try {
    await Promise.race([running, refused, timeout]);
  } finally {
    clearTimeout(timer);
  }
};
