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

export const errorResponse = (c: Context, error: DomainError): Response => {
  if (error.retryAfter !== undefined)
    c.header("Retry-After", String(Math.max(1, Math.ceil(error.retryAfter))));
  // A shipper protocol's route answers in that protocol's shape; the status stays the one this file decides.
  const render = c.get("renderError");
  if (render) return render(c, error, STATUS[error.code]);
  return c.json(errorBody(error, c.get("requestId") ?? ""), STATUS[error.code]);
};

/** Hono onError handler: domain errors keep their status; anything else is logged and answered 500. */
export const onError =
  (logger: Logger) =>
  (err: Error, c: Context): Response => {
    if (err instanceof DomainError) return errorResponse(c, err);
    logger.error("unhandled error", { error: err, requestId: c.get("requestId"), path: c.req.path });
    return errorResponse(c, new DomainError("internal", "internal error"));
  };

export const notFound = (c: Context): Response =>
  errorResponse(c, new DomainError("not_found", `no route for ${c.req.method} ${c.req.path}`));
