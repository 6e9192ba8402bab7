// COPY FROM STDIN in text format: field escaping and a streamed write that a timeout always settles.

import type { Writable } from "node:stream";

const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const SPECIAL = /[\\\t\n\r]/g;

/** One field in COPY text format: backslash, tab, newline and carriage return escaped; null is \N. */
export const copyField = (value: string | number | null): string =>
  value === null
    ? "\\N"
    : typeof value === "number"
      ? String(value)
      : value.replace(SPECIAL, (c) => ESCAPES[c] ?? c);

export const copyLine = (fields: (string | number | null)[]): string =>
  `${fields.map(copyField).join("\t")}\n`;

/** Thrown when a COPY did not settle in time: the connection must be destroyed, never reused. */
export class CopyTimeoutError extends Error {
  constructor(ms: number) {
    super(`COPY did not complete within ${ms} ms`);
    this.name = "CopyTimeoutError";
  }
}

const CHUNK_CHARS = 128 * 1024;

/** Writes the lines in chunks, waiting for drain; resolves on finish, rejects on the stream's error. */
const stream = (sink: Writable, lines: readonly string[], stopped: () => boolean): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    sink.once("error", reject);
    sink.once("finish", () => resolve());
    let i = 0;
    const pump = (): void => {
      while (i < lines.length) {
        if (stopped()) return;
        let chunk = "";
        while (i < lines.length && chunk.length < CHUNK_CHARS) chunk += lines[i++];
        if (!sink.write(chunk)) {
          sink.once("drain", pump);
          return;
        }
      }
      sink.end();
    };
    pump();
  });

/**
 * Streams lines into an opening COPY (the promise of `sql\`copy … from stdin\`.writable()`).
 * postgres.js can leave a failed COPY unsettled (issue #1173), so the whole exchange races a timer;
 * on CopyTimeoutError the caller destroys the connection.
 */
export const copyLines = async (
  open: Promise<Writable>,
  lines: readonly string[],
  timeoutMs: number,
): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let expired = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      reject(new CopyTimeoutError(timeoutMs));
    }, timeoutMs);
  });
  const running = open.then((sink) => stream(sink, lines, () => expired));
  // Whichever loses the race must not surface as an unhandled rejection.
  running.catch(() => {});
  timeout.catch(() => {});
  try {
    await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
};
