// Guards any LogPublisher: every publish under the guard (a time bound and a circuit breaker) and the bus metrics.

import { BrokenCircuitError, CircuitState, IsolatedCircuitError, TaskCancelledError } from "cockatiel";
import { DomainError, isOverloaded } from "../../domain/errors.ts";
import type { LogEvent } from "../../domain/log-event.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Health, LogPublisher } from "../../ports/log-bus.ts";
import { type BreakerState, bounded, breakerGaugeValue, createGuard } from "../guard.ts";

export interface GuardOptions {
  /** Bound on one publish (and one health check), from the call to the answer. */
  timeoutMs: number;
  /**
   * How many times timeoutMs a publish of these events may take (default 1): a bus that sends a large
   * publish in several requests bounds each of them, and the guard's bound is only the backstop.
   */
  boundsFor?: (events: LogEvent[]) => number;
  metrics?: Pick<Metrics, "kafkaSent" | "kafkaSendDuration" | "breakerState">;
  logger: Logger;
  /** The `name` label of circuit_breaker_state. */
  name?: string;
  /** Consecutive failed publishes that open the circuit. */
  failureThreshold?: number;
  /** How long the circuit stays open before one probe publish is let through. */
  halfOpenAfterMs?: number;
}

export type CircuitName = BreakerState;

export interface GuardedPublisher extends LogPublisher {
  /** The error publish() would fail with right now without touching the bus, or undefined. */
  refusal(): DomainError | undefined;
  circuit(): CircuitName;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export const guardPublisher = (publisher: LogPublisher, opts: GuardOptions): GuardedPublisher => {
  const { metrics, logger, timeoutMs } = opts;
  const name = opts.name ?? "bus";
  const halfOpenAfterMs = opts.halfOpenAfterMs ?? 5000;
  // Backpressure (a queue that is full here) says nothing about the bus: only real failures count.
  // The breaker sits outside the timeout, so a publish that never answers counts as a failure.
  const guard = createGuard({
    timeoutMs,
    failureThreshold: opts.failureThreshold ?? 5,
    halfOpenAfterMs,
    counts: (error) => !isOverloaded(error),
  });
  const { breaker } = guard;
  let openedAt = 0;
  let lastFailure = "";
  const describe = (error: unknown): string =>
    error instanceof TaskCancelledError ? `no answer within ${timeoutMs} ms` : messageOf(error);

  metrics?.breakerState.set({ name }, breakerGaugeValue("closed"));
  breaker.onStateChange(() => metrics?.breakerState.set({ name }, breakerGaugeValue(guard.state())));
  breaker.onBreak((reason) => {
    openedAt = Date.now();
    // Fired before the failing call returns to publish(): take the cause from the event itself.
    if ("error" in reason) lastFailure = describe(reason.error);
    logger.warn("circuit opened: publishes fail fast until a probe succeeds", {
      circuit: name,
      retryInMs: halfOpenAfterMs,
      lastFailure,
    });
  });
  breaker.onHalfOpen(() => logger.info("circuit half-open: probing the bus", { circuit: name }));
  breaker.onReset(() => logger.info("circuit closed: the bus accepts events again", { circuit: name }));

  const circuitOpen = (retryAfterMs: number): DomainError =>
    new DomainError(
      "unavailable",
      `the log bus is failing (${lastFailure || "repeated errors"}); retry later`,
      {
        retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
      },
    );

  const refusal = (): DomainError | undefined => {
    const state = breaker.state;
    if (state === CircuitState.Open) {
      const left = openedAt + halfOpenAfterMs - Date.now();
      // Once the break has elapsed the next publish is the probe: let it through.
      return left > 0 ? circuitOpen(left) : undefined;
    }
    // One probe at a time; cockatiel would make the others wait behind it, past our time bound.
    if (state === CircuitState.HalfOpen) return circuitOpen(1000);
    if (state === CircuitState.Isolated) return circuitOpen(halfOpenAfterMs);
    return undefined;
  };

  const publish = async (events: LogEvent[]): Promise<void> => {
    if (events.length === 0) return;
    const refused = refusal();
    if (refused) {
      metrics?.kafkaSent.inc({ result: "rejected_open" }, events.length);
      throw refused;
    }
    const end = metrics?.kafkaSendDuration.startTimer();
    try {
      const bounds = Math.max(1, Math.ceil(opts.boundsFor?.(events) ?? 1));
      await guard.within(timeoutMs * bounds).execute(() => publisher.publish(events));
      metrics?.kafkaSent.inc({ result: "ok" }, events.length);
    } catch (error) {
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
        metrics?.kafkaSent.inc({ result: "rejected_open" }, events.length);
        throw circuitOpen(Math.max(0, openedAt + halfOpenAfterMs - Date.now()));
      }
      if (isOverloaded(error)) {
        metrics?.kafkaSent.inc({ result: "overloaded" }, events.length);
        throw error;
      }
      lastFailure = describe(error);
      metrics?.kafkaSent.inc(
        { result: error instanceof TaskCancelledError ? "timeout" : "error" },
        events.length,
      );
      if (error instanceof DomainError) throw error;
      throw new DomainError(
        "unavailable",
        `the log bus did not accept the events: ${lastFailure}; retry later`,
        {
          retryAfter: 1,
        },
      );
    } finally {
      end?.();
    }
  };

  const health = async (): Promise<Health> => {
    let inner: Health;
    try {
      inner = await bounded(timeoutMs, () => publisher.health());
    } catch (error) {
      inner = {
        ok: false,
        detail:
          error instanceof TaskCancelledError ? `no health answer within ${timeoutMs} ms` : messageOf(error),
      };
    }
    // An open circuit refuses every event, so this producer cannot take traffic whatever the probe says.
    if (refusal() && breaker.state === CircuitState.Open)
      return {
        ok: false,
        detail: `circuit open after repeated publish failures (${lastFailure}); bus: ${inner.detail ?? "?"}`,
      };
    return inner;
  };

  return {
    start: () => publisher.start(),
    stop: () => publisher.stop(),
    publish,
    health,
    refusal,
    circuit: guard.state,
  };
};
