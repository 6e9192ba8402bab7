// One guard for every dependency the roles call (the bus, the cache): a bound on each call's time and a
// circuit breaker (cockatiel), with the breaker's states named once and encoded once for the gauge.

import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  handleWhen,
  TaskCancelledError,
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

/** Runs a call under the guards. */
export interface GuardPolicy {
  execute<T>(fn: () => PromiseLike<T> | T): Promise<T>;
}

/** Settles like the promise, or rejects with expired() once ms have passed; the promise itself runs on. */
export const settleWithin = <T>(promise: Promise<T>, ms: number, expired: () => Error): Promise<T> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), Math.max(0, ms));
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
};

/**
 * The call's result, or cockatiel's TaskCancelledError at `ms` without waiting for the call, as cockatiel's
 * Aggressive timeout rejects. That timeout also derives, links and aborts an AbortController on every call
 * for the call to observe; no call here takes a signal, and the bookkeeping cost the producer 4-6 % of its
 * CPU per single event (docs/ingest-performance.md).
 */
export const bounded = <T>(ms: number, fn: () => PromiseLike<T> | T): Promise<T> => {
  // fn starts now, not a microtask later: callers see its first synchronous steps before they go on.
  let call: Promise<T>;
  try {
    call = Promise.resolve(fn());
  } catch (error) {
    call = Promise.reject(error);
  }
  return settleWithin(call, ms, () => new TaskCancelledError(`Operation timed out after ${ms}ms`));
};

/** The breaker and the policy that runs a call under both guards (the breaker outside the time bound). */
export const createGuard = (spec: GuardSpec) => {
  const breaker = circuitBreaker(spec.counts ? handleWhen(spec.counts) : handleAll, {
    halfOpenAfter:
      spec.maxHalfOpenAfterMs === undefined
        ? spec.halfOpenAfterMs
        : new ExponentialBackoff({ initialDelay: spec.halfOpenAfterMs, maxDelay: spec.maxHalfOpenAfterMs }),
    breaker: new ConsecutiveBreaker(spec.failureThreshold),
  });
  // The caller gets its rejection at the deadline even if the inner call never settles; the breaker counts it.
  const under = (ms: number): GuardPolicy => ({ execute: (fn) => breaker.execute(() => bounded(ms, fn)) });
  const policy = under(spec.timeoutMs);
  // Every publish asks for its bound: the usual one is built once, a longer one (a large publish) on demand.
  const within = (ms: number): GuardPolicy => (ms <= spec.timeoutMs ? policy : under(ms));
  return { breaker, policy, within, state: (): BreakerState => stateName(breaker.state) };
};
