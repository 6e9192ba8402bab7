// The one place that maps errors to HTTP: {"error": code, "message", "details"?, "requestId"}.

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError, type ErrorCode } from "../domain/errors.ts";
import type { Logger } from "../observability/logger.ts";

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  validation_failed: 400,
  malformed_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  rate_limited: 429,
  not_found: 404,
  unavailable: 503,
  overloaded: 503,
  query_timeout: 503,
  internal: 500,
};

/** The HTTP status of a domain error: the same for every protocol's error shape. */
export const statusOf = (error: DomainError): ContentfulStatusCode => STATUS[error.code];

export const errorBody = (error: DomainError, requestId: string) => ({
  // The replaced design's clients read a refusal by the bus or its circuit breaker as status "unavailable".
  ...(error.code === "unavailable" ? { status: "unavailable" } : {}),
  error: error.code,
  message: error.message,
  ...(error.details ? { details: error.details } : {}),
  requestId,
});

/** The Retry-After header of an error that says when to try again (seconds, at least 1). */
const retryAfterOf = (error: DomainError): string | undefined =>
  error.retryAfter === undefined ? undefined : String(Math.max(1, Math.ceil(error.retryAfter)));

export const errorResponse = (c: Context, error: DomainError): Response => {
  const retryAfter = retryAfterOf(error);
  if (retryAfter !== undefined) c.header("Retry-After", retryAfter);
  // A shipper protocol's route answers in that protocol's shape; the status stays the one this file decides.
  const render = c.get("renderError");
  if (render) return render(c, error, STATUS[error.code]);
  return c.json(errorBody(error, c.get("requestId") ?? ""), STATUS[error.code]);
};

/**
 * The answer errorResponse gives (without a shipper's renderer), for a handler that runs outside Hono's
 * context: `headers` are the ones the app's middleware would have added (request id, CORS, ...).
 */
export const errorAnswer = (
  error: DomainError,
  requestId: string,
  headers: Record<string, string>,
): Response => {
  const retryAfter = retryAfterOf(error);
  return new Response(JSON.stringify(errorBody(error, requestId)), {
    status: STATUS[error.code],
    headers: {
      ...headers,
      ...(retryAfter !== undefined ? { "Retry-After": retryAfter } : {}),
      "Content-Type": "application/json",
    },
  });
};

/** What a thrown value is answered as: a domain error as itself; anything else is logged and is a 500. */
export const domainErrorOf = (
  err: unknown,
  logger: Logger,
  where: { requestId: string | undefined; path: string },
): DomainError => {
  if (err instanceof DomainError) return err;
  logger.error("unhandled error", { error: err, ...where });
  return new DomainError("internal", "internal error");
};

/** Hono onError handler: domain errors keep their status; anything else is logged and answered 500. */
export const onError =
  (logger: Logger) =>
  (err: Error, c: Context): Response =>
    errorResponse(c, domainErrorOf(err, logger, { requestId: c.get("requestId"), path: c.req.path }));

export const notFound = (c: Context): Response =>
  errorResponse(c, new DomainError("not_found", `no route for ${c.req.method} ${c.req.path}`));
