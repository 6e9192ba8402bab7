// Unhandled rejections: a connection lost under a query nothing awaits is logged, anything else ends the process.

import { expect, test } from "bun:test";
import postgres from "postgres";
import type { Logger } from "../../src/observability/logger.ts";
import { isLostConnection, onUnhandledRejection } from "../../src/observability/rejections.ts";

/** The shape of postgres.js's connection errors (Errors.connection): the code as code and errno. */
const connectionError = (code: string) =>
  Object.assign(new Error(`write ${code} 127.0.0.1:5432`), { code, errno: code });
const serverError = (code: string, message: string) => new postgres.PostgresError({ code, message } as never);

test("a lost connection is a closed, ended or reset connection, or a session the server ended", () => {
  for (const code of ["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED", "CONNECT_TIMEOUT"])
    expect(isLostConnection(connectionError(code))).toBe(true);
  for (const code of ["ECONNRESET", "ECONNREFUSED", "EPIPE"])
    expect(isLostConnection(Object.assign(new Error(`read ${code}`), { code }))).toBe(true);
  expect(isLostConnection(serverError("57P01", "terminating connection due to administrator command"))).toBe(
    true,
  );
  expect(isLostConnection(serverError("57P02", "terminating connection because of crash"))).toBe(true);
  expect(isLostConnection(serverError("57P03", "the database system is starting up"))).toBe(true);
});

test("anything else is not: other server errors, errors without a code, values that are not errors", () => {
  expect(isLostConnection(serverError("23505", "duplicate key value"))).toBe(false);
  expect(isLostConnection(serverError("CONNECTION_CLOSED", "a server error is judged by its SQLSTATE"))).toBe(
    false,
  );
  expect(isLostConnection(new TypeError("null is not an object"))).toBe(false);
  expect(isLostConnection(Object.assign(new Error("x"), { code: 57 }))).toBe(false);
  expect(isLostConnection({ code: "ECONNRESET" })).toBe(false);
  expect(isLostConnection("ECONNRESET")).toBe(false);
  expect(isLostConnection(undefined)).toBe(false);
});

test("the handler logs a lost connection and goes on, and ends the process on anything else", () => {
  const logged: [string, string][] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message) => void logged.push(["warn", message]),
    error: (message) => void logged.push(["error", message]),
    child: () => logger,
  };
  const exits: number[] = [];
  const handle = onUnhandledRejection(logger, (code) => void exits.push(code));
  handle(connectionError("CONNECTION_CLOSED"));
  handle(serverError("57P01", "terminating connection due to administrator command"));
  expect(exits).toEqual([]);
  handle(new TypeError("null is not an object"));
  expect(exits).toEqual([1]);
  expect(logged).toEqual([
    ["warn", "connection lost outside any request"],
    ["warn", "connection lost outside any request"],
    ["error", "unhandled promise rejection"],
  ]);
});
