// Time helpers of the Kafka adapter: abortable sleep, deadline-bounded promises, jittered exponential backoff.

import { settleWithin } from "../../guard.ts";

export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeadlineError";
  }
}

/** Resolves after ms, or early (without error) when the signal aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });

/** Settles like the promise, or rejects with a DeadlineError once ms have passed; the promise itself runs on. */
export const withDeadline = <T>(promise: Promise<T>, ms: number, message: string): Promise<T> =>
  settleWithin(promise, ms, () => new DeadlineError(message));

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** Exponential backoff with "equal jitter": half the step is fixed, half random, so retries spread out. */
export const backoffDelay = (attempt: number, policy: BackoffPolicy): number => {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + Math.random() * (step / 2));
};

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
