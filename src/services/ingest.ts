// Ingest use-case: validate raw events, publish the valid ones, report each rejected item by index and field.

import {
  DomainError,
  isOverloaded,
  MAX_REPORTED_ERRORS,
  MalformedItem,
  tooManyEvents,
  validationError,
} from "../domain/errors.ts";
import {
  type EventLimits,
  type EventParseResult,
  type LogEvent,
  makeEventParser,
} from "../domain/log-event.ts";
import type { LogPublisher } from "../ports/log-bus.ts";
import { createAsyncSender } from "./async-sender.ts";
import { createTimeSlicer } from "./time-slices.ts";

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
  /** Refused because too much already waits for the bus here (503 with Retry-After, backpressure). */
  overloaded?(count: number): void;
}

export interface IngestPublisher extends Pick<LogPublisher, "publish"> {
  /** The error a publish would fail with right now (open circuit, full queue), so the async path can refuse early. */
  refusal?(): DomainError | undefined;
}

export interface IngestDeps {
  publisher: IngestPublisher;
  limits: EventLimits;
  maxBatchEvents: number;
  observer?: IngestObserver;
  /**
   * The background publish of the async endpoint (default: publisher.publish): the producer role retries it
   * with backoff. It rejects only once the events are given up.
   */
  publishAsync?: (events: LogEvent[], signal: AbortSignal) => Promise<void>;
  /** Called once per async event given up (every retry failed, or the producer stopped), with the reason. */
  onAsyncFailure?: (error: unknown, events: LogEvent[]) => void;
  /** Called with the number of async events awaiting the bus whenever it changes. */
  onAsyncPending?: (count: number) => void;
  /** Most async events awaiting the bus, retries included; past it the async endpoint answers 503. */
  maxAsyncPending?: number;
}

export const createIngest = (deps: IngestDeps) => {
  const parseEvent = makeEventParser(deps.limits);
  const { observer } = deps;
  const background = createAsyncSender({
    publish: deps.publishAsync ?? ((events) => deps.publisher.publish(events, { detached: true })),
    maxPending: deps.maxAsyncPending ?? 10_000,
    onStored: (n) => observer?.accepted(n),
    onGiveUp: (error, events) => {
      observer?.failed(events.length);
      deps.onAsyncFailure?.(error, events);
    },
    ...(deps.onAsyncPending ? { onPending: deps.onAsyncPending } : {}),
  });

  // The schema's depth check recurses; a body nested far past any limit overflows the stack before it answers.
  const parse = (raw: unknown, receivedAt: number): EventParseResult => {
    try {
      return parseEvent(raw, receivedAt, "");
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return { ok: false, issues: [{ field: "metadata", message: "is nested far too deeply" }] };
    }
  };

  const validateOne = (raw: unknown): LogEvent => {
    const result = parse(raw, Date.now());
    if (!result.ok) {
      observer?.rejected(1);
      throw validationError(result.issues);
    }
    return result.event;
  };

  const failed = (error: unknown, count: number): void => {
    if (isOverloaded(error) && observer?.overloaded) observer.overloaded(count);
    else observer?.failed(count);
  };

  const publish = async (events: LogEvent[]): Promise<void> => {
    try {
      await deps.publisher.publish(events);
      observer?.accepted(events.length);
    } catch (error) {
      failed(error, events.length);
      if (error instanceof DomainError) throw error;
      throw new DomainError("unavailable", "the log bus did not accept the events; retry later", {
        retryAfter: 1,
      });
    }
  };

  return {
    /** The limits events are held to: shipper protocols fit their attributes to them before validation. */
    settings: { limits: deps.limits, maxBatchEvents: deps.maxBatchEvents },

    /** Validates and publishes one event; resolves once the bus holds it durably. */
    async one(raw: unknown): Promise<LogEvent> {
      const event = validateOne(raw);
      await publish([event]);
      return event;
    },

    /** Validates now, publishes in the background: for the async endpoint. Refuses when the bus is known down. */
    oneAsync(raw: unknown): LogEvent {
      const event = validateOne(raw);
      const refused = deps.publisher.refusal?.();
      if (refused) {
        failed(refused, 1);
        throw refused;
      }
      try {
        background.send([event]);
      } catch (error) {
        failed(error, 1);
        throw error;
      }
      return event;
    },

    /**
     * Validates every item, yielding to the event loop between slices; publishes the valid ones together;
     * reports the first MAX_REPORTED_ERRORS errors by index (all of them with allErrors, which the shipper
     * protocols need to answer per item; batches are bounded by maxBatchEvents) and counts every failed item.
     */
    async batch(items: unknown[], opts: { allErrors?: boolean } = {}): Promise<BatchOutcome> {
      if (items.length > deps.maxBatchEvents) throw tooManyEvents(deps.maxBatchEvents);
      const slicer = createTimeSlicer();
      const receivedAt = Date.now();
      const valid: LogEvent[] = [];
      const errors: BatchItemError[] = [];
      let failureCount = 0;
      const report = (index: number, field: string, message: string): void => {
        if (opts.allErrors || errors.length < MAX_REPORTED_ERRORS) errors.push({ index, field, message });
      };
      for (let index = 0; index < items.length; index++) {
        if (slicer.due()) await slicer.pause();
        const raw = items[index];
        if (raw instanceof MalformedItem) {
          failureCount++;
          report(index, "body", raw.reason);
          continue;
        }
        const result = parse(raw, receivedAt);
        if (result.ok) valid.push(result.event);
        else {
          failureCount++;
          for (const issue of result.issues) report(index, issue.field, issue.message);
        }
      }
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

    /**
     * Resolves once every async event accepted so far is on the bus or given up, or after deadlineMs: those
     * still waiting then are given up (counted and reported).
     */
    drain: (deadlineMs?: number): Promise<void> => background.drain(deadlineMs),
  };
};

export type Ingest = ReturnType<typeof createIngest>;
