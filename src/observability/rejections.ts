// Promise rejections that nothing handled. postgres.js leaks one when the server closes a connection while
// it fetches the array types, which every new connection does first: its handler of ReadyForQuery returns
// that query's promise to no one. A PostgreSQL shutdown (or an operator ending sessions) therefore ended the
// process. Such a lost connection is logged, and the pool connects anew for its next query; any other
// rejection still ends the process, as the runtime would, but through the structured log.

import type { Logger } from "./logger.ts";

/** postgres.js's own connection errors, and the socket's. */
const CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_DESTROYED",
  "CONNECTION_ENDED",
  "CONNECT_TIMEOUT",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
]);
/** SQLSTATEs of a session the server ended: an operator or a shutdown, a crash, a server not yet up. */
const ENDED_SESSION = new Set(["57P01", "57P02", "57P03"]);

/** A connection lost under a query that nothing awaits: nothing of a request or a batch depends on it. */
export const isLostConnection = (reason: unknown): boolean => {
  if (!(reason instanceof Error)) return false;
  const code = (reason as { code?: unknown }).code;
  if (typeof code !== "string") return false;
  return reason.name === "PostgresError" ? ENDED_SESSION.has(code) : CONNECTION_CODES.has(code);
};

export const onUnhandledRejection =
  (logger: Logger, exit: (code: number) => void) =>
  (reason: unknown): void => {
    if (isLostConnection(reason)) {
      logger.warn("connection lost outside any request", { error: reason });
      return;
    }
    logger.error("unhandled promise rejection", { error: reason });
    exit(1);
  };

export const logRejections = (logger: Logger): void => {
  process.on(
    "unhandledRejection",
    onUnhandledRejection(logger, (code) => process.exit(code)),
  );
};
