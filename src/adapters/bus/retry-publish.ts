// Retries a publish with exponential backoff and jitter (cockatiel): the background sends of the async endpoint.

import { ExponentialBackoff, handleAll, retry } from "cockatiel";
import type { LogEvent } from "../../domain/log-event.ts";
import type { LogPublisher } from "../../ports/log-bus.ts";

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** Median of the first wait; later waits roughly double (decorrelated jitter). */
  initialDelayMs?: number;
  /** Longest single wait. */
  maxDelayMs?: number;
}

export const DEFAULT_INITIAL_DELAY_MS = 250;
export const DEFAULT_MAX_DELAY_MS = 5000;

/** publish() again after each failure until `attempts` tries failed; then the last error. */
export const retryingPublish = (
  publisher: Pick<LogPublisher, "publish">,
  opts: RetryOptions,
): ((events: LogEvent[], signal?: AbortSignal) => Promise<void>) => {
  const policy = retry(handleAll, {
    maxAttempts: Math.max(0, opts.attempts - 1),
    // Decorrelated jitter (cockatiel's default): producers that lost the bus together do not retry in step.
    backoff: new ExponentialBackoff({
      initialDelay: opts.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS,
      maxDelay: opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS,
    }),
  });
  // Once the signal is aborted, the try in progress (or the one after the current wait) is the last.
  // Detached: nobody waits for this answer, so a queue in front of the bus keeps the events past a client's bound.
  return (events, signal) => policy.execute(() => publisher.publish(events, { detached: true }), signal);
};
