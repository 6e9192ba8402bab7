// Sorting PostgreSQL failures: refused data (UnstorableError), reads past their timeout, trouble worth a retry.

import postgres from "postgres";
import { DomainError, UnstorableError } from "../../../domain/errors.ts";

/** SQLSTATE of a server-reported error, undefined for connection-level failures. */
export const sqlState = (error: unknown): string | undefined =>
  error instanceof postgres.PostgresError && typeof error.code === "string" ? error.code : undefined;

/**
 * Class 22 (data exception: bad encoding, invalid JSON or time) and class 23 (integrity) mean the rows
 * themselves are refused, except 23505: our dedupe resolves id conflicts itself, so a unique violation
 * points at a race worth retrying. 54000 is a value too large for an index or a tsvector.
 */
export const isDataRefusal = (state: string | undefined): boolean =>
  state !== undefined &&
  (state.startsWith("22") || (state.startsWith("23") && state !== "23505") || state === "54000");

export const classify = (error: unknown): unknown => {
  const state = sqlState(error);
  if (isDataRefusal(state)) return new UnstorableError(`${(error as Error).message} (SQLSTATE ${state})`);
  return error;
};

/** SQLSTATE query_canceled: the statement timeout ended the statement (or an operator cancelled it). */
const QUERY_CANCELED = "57014";

/**
 * Maps a read cancelled by the read pool's statement timeout to the query_timeout error (503 with
 * Retry-After): the client learns its query ran too long, not that the gateway broke.
 */
export const readTimeout =
  (timeoutMs: number) =>
  <T>(read: Promise<T>): Promise<T> =>
    read.catch((error: unknown) => {
      if (sqlState(error) !== QUERY_CANCELED) throw error;
      throw new DomainError(
        "query_timeout",
        `the query ran longer than ${timeoutMs} ms (QUERY_TIMEOUT_MS) and was cancelled; narrow it or retry later`,
        { retryAfter: 5 },
      );
    });
