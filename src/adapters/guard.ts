// One guard for every dependency the roles call (the bus, the cache): a bound on each call's time and a
// circuit breaker (cockatiel), with the breaker's states named once and encoded once for the gauge.

import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  handleWhen,
  TimeoutStrategy,
  timeout,
  wrap,
} from "cockatiel";

export type BreakerState = "closed" | "half-open" | "open";

/** cockatiel's state by name (an isolated circuit is open). */
export const stateName = (s: CircuitState): BreakerState =>
  s === CircuitState.Closed ? "closed" : s === CircuitState.HalfOpen ? "half-open" : "open";

/** The circuit_breaker_state gauge's encoding: 0 closed, 1 half-open, 2 open. */
export const breakerGaugeValue = (state: BreakerState): number =>
  state === "closed" ? 0 : state === "half-open" ? 1 : 2;

export interface GuardSpec {
  /** A call without an answer by then fails (and counts as a failure). */
  timeoutMs: number;
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open before a trial call: fixed, or doubling while trials fail. */
  halfOpenAfterMs: number;
  maxHalfOpenAfterMs?: number;
  /** Which errors count as failures (default: all). */
  counts?: (error: Error) => boolean;
}

/** The breaker and the policy that runs a call under both guards (the breaker outside the time bound). */
export const createGuard = (spec: GuardSpec) => {
  const breaker = circuitBreaker(spec.counts ? handleWhen(spec.counts) : handleAll, {
    halfOpenAfter:
      spec.maxHalfOpenAfterMs === undefined
        ? spec.halfOpenAfterMs
        : new ExponentialBackoff({ initialDelay: spec.halfOpenAfterMs, maxDelay: spec.maxHalfOpenAfterMs }),
    breaker: new ConsecutiveBreaker(spec.failureThreshold),
  });
  // Aggressive: the caller gets its rejection at the deadline even if the inner call never settles.
  const policy = wrap(breaker, timeout(spec.timeoutMs, TimeoutStrategy.Aggressive));
  // Longer bounds for larger calls, under the same breaker; a few distinct lengths, each built once.
  const longer = new Map<number, typeof policy>();
  const within = (ms: number): typeof policy => {
    if (ms <= spec.timeoutMs) return policy;
    let p = longer.get(ms);
    if (!p) {
      p = wrap(breaker, timeout(ms, TimeoutStrategy.Aggressive));
      longer.set(ms, p);
    }
    return p;
  };
  return { breaker, policy, within, state: (): BreakerState => stateName(breaker.state) };
};
