// Parsing one event the way ingest does, with a fixed receive time, for the schema tests.

import type { FieldIssue } from "../../src/domain/errors.ts";
import { DEFAULT_EVENT_LIMITS, type LogEvent, makeEventParser } from "../../src/domain/log-event.ts";

export const parseEvent = makeEventParser(DEFAULT_EVENT_LIMITS);
export const RECEIVED = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
export const baseEvent = { level: "INFO", message: "user logged in", source: "auth-service" } as const;

export const accepted = (raw: unknown): LogEvent => {
  const result = parseEvent(raw, RECEIVED);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.issues)}`);
  return result.event;
};

export const rejected = (raw: unknown): FieldIssue[] => {
  const result = parseEvent(raw, RECEIVED);
  if (result.ok) throw new Error(`expected rejection of ${JSON.stringify(raw).slice(0, 200)}`);
  return result.issues;
};

export const fieldsOf = (raw: unknown): string[] => rejected(raw).map((i) => i.field);

/** Objects nested `depth` levels deep ({} is depth 1). */
export const nested = (depth: number): Record<string, unknown> =>
  depth <= 1 ? {} : { a: nested(depth - 1) };
