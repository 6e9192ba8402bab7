// Ingest use-case: validate raw events, publish the valid ones, report each rejected item by index and field.

import { DomainError, type FieldIssue, MalformedItem, validationError } from "../domain/errors.ts";
import { type EventLimits, type LogEvent, makeEventParser } from "../domain/log-event.ts";
import type { LogPublisher } from "../ports/log-bus.ts";

export interface BatchItemError {
  index: number;
  field: string;
  message: string;
}

export interface BatchOutcome {
  totalEvents: number;
  successCount: number;
  failureCount: number;
  errors: BatchItemError[];
  ids: string[];
}

export interface IngestObserver {
  accepted(count: number): void;
  rejected(count: number): void;
  failed(count: number): void;
}

export interface IngestDeps {
  publisher: Pick<LogPublisher, "publish">;
  limits: EventLimits;
  maxBatchEvents: number;
  observer?: IngestObserver;
  /** Called with errors of fire-and-forget publishes (the async endpoint). */
  onAsyncFailure?: (error: unknown, count: number) => void;
}

/** Errors reported per batch item are capped so a 10,000-item garbage batch gets a bounded reply. */
const MAX_REPORTED_ERRORS = 1000;

export const createIngest = (deps: IngestDeps) => {
  const parse = makeEventParser(deps.limits);
  const { observer } = deps;

  const validateOne = (raw: unknown): LogEvent => {
    const result = parse(raw);
    if (!result.ok) {
      observer?.rejected(1);
      throw validationError(result.issues);
    }
    return result.event;
  };

  const publish = async (events: LogEvent[]): Promise<void> => {
    try {
      await deps.publisher.publish(events);
      observer?.accepted(events.length);
    } catch (error) {
      observer?.failed(events.length);
      if (error instanceof DomainError) throw error;
      throw new DomainError("unavailable", "the log bus did not accept the events; retry later", { retryAfter: 1 });
    }
  };

  return {
    /** Validates and publishes one event; resolves once the bus holds it durably. */
    async one(raw: unknown): Promise<LogEvent> {
      const event = validateOne(raw);
      await publish([event]);
      return event;
    },

    /** Validates now, publishes in the background: for the async endpoint. */
    oneAsync(raw: unknown): LogEvent {
      const event = validateOne(raw);
      publish([event]).catch((error: unknown) => deps.onAsyncFailure?.(error, 1));
      return event;
    },

    /** Validates every item; publishes the valid ones together; reports the others. */
    async batch(items: unknown[]): Promise<BatchOutcome> {
      if (items.length > deps.maxBatchEvents)
        throw new DomainError("payload_too_large", `a batch holds at most ${deps.maxBatchEvents} events (got ${items.length})`);
      const receivedAt = Date.now();
      const valid: LogEvent[] = [];
      const errors: BatchItemError[] = [];
      let failureCount = 0;
      items.forEach((raw, index) => {
        if (raw instanceof MalformedItem) {
          failureCount++;
          if (errors.length < MAX_REPORTED_ERRORS) errors.push({ index, field: "body", message: raw.reason });
          return;
        }
        const result = parse(raw, receivedAt, "");
        if (result.ok) valid.push(result.event);
        else {
          failureCount++;
          for (const issue of result.issues as FieldIssue[])
            if (errors.length < MAX_REPORTED_ERRORS) errors.push({ index, field: issue.field, message: issue.message });
        }
      });
      if (failureCount) observer?.rejected(failureCount);
      if (valid.length) await publish(valid);
      return {
        totalEvents: items.length,
        successCount: valid.length,
        failureCount,
        errors,
        ids: valid.map((e) => e.id),
      };
    },
  };
};

export type Ingest = ReturnType<typeof createIngest>;
