// Elasticsearch's error shape for every failure on its routes, and the product header its clients insist on.

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError } from "../../domain/errors.ts";
import { errorShape } from "./protocol.ts";

const ERROR_TYPES: Record<DomainError["code"], string> = {
  validation_failed: "illegal_argument_exception",
  malformed_json: "parse_exception",
  payload_too_large: "content_too_long_exception",
  unsupported_media_type: "media_type_header_exception",
  unauthorized: "security_exception",
  rate_limited: "es_rejected_execution_exception",
  overloaded: "es_rejected_execution_exception",
  query_timeout: "timeout_exception",
  not_found: "resource_not_found_exception",
  unavailable: "unavailable_shards_exception",
  internal: "exception",
};

/** Elasticsearch's error body: {"error": {"root_cause": [...], "type", "reason"}, "status"}. */
export const esErrorBody = (type: string, reason: string, status: number) => ({
  error: { root_cause: [{ type, reason }], type, reason },
  status,
});

const renderEsError = (c: Context, error: DomainError, status: ContentfulStatusCode): Response => {
  if (error.code === "unauthorized")
    c.header("WWW-Authenticate", 'Basic realm="logproc", ApiKey, Bearer realm="logproc"');
  return c.json(esErrorBody(ERROR_TYPES[error.code], error.message, status), status);
};

/** Every Elasticsearch route answers with the product header the official clients insist on. */
export const esShape = errorShape(renderEsError, { "X-Elastic-Product": "Elasticsearch" });
