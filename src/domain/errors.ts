// The one error family of logproc: a string code that the HTTP layer maps to a status.

export type ErrorCode =
  | "validation_failed"
  | "malformed_json"
  | "payload_too_large"
  | "unsupported_media_type"
  | "unauthorized"
  | "rate_limited"
  | "not_found"
  | "unavailable"
  | "overloaded"
  | "query_timeout"
  | "internal";

export interface FieldIssue {
  field: string;
  message: string;
}

export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: FieldIssue[] | undefined;
  /** Seconds a client should wait before retrying (429/503). */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, opts: { details?: FieldIssue[]; retryAfter?: number } = {}) {
    super(message);
    this.name = "DomainError";
    this.code = code;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
  }
}

export const validationError = (details: FieldIssue[], message?: string): DomainError =>
  new DomainError("validation_failed", message ?? details.map((d) => `${d.field}: ${d.message}`).join("; "), {
    details,
  });

/**
 * Too much is waiting for the bus in this process: backpressure, not a failing bus. Answered 503 with
 * Retry-After, and never counted by a circuit breaker.
 */
export const overloaded = (message: string, retryAfter = 1): DomainError =>
  new DomainError("overloaded", message, { retryAfter });

export const isOverloaded = (error: unknown): boolean =>
  error instanceof DomainError && error.code === "overloaded";

/** Thrown by a store when the data itself is refused (not a connection problem): retrying cannot help. */
export class UnstorableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnstorableError";
  }
}

/**
 * Thrown by a store when a write did not finish in time (a COPY past its timeout): nothing of it is stored,
 * and the same batch may time out again, so the caller retries with fewer events.
 */
export class WriteTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WriteTimeoutError";
  }
}

/** A batch item that was not even valid JSON (an NDJSON line): reported like any other bad item. */
export class MalformedItem {
  constructor(readonly reason: string) {}
}

/** A batch answer names its first this-many item errors (with their index) and counts all of them. */
export const MAX_REPORTED_ERRORS = 100;

/** A batch with more events than its limit: refused as soon as the count passes it, before the rest is read. */
export const tooManyEvents = (max: number): DomainError =>
  new DomainError(
    "payload_too_large",
    `a batch holds at most ${max} events (MAX_BATCH_EVENTS); this one has more`,
    {
      details: [{ field: "body", message: `more than ${max} events` }],
    },
  );
