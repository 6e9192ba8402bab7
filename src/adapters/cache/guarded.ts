// Wraps any query cache in the guard (a timeout and a circuit breaker): a slow or dead cache is bypassed.

import type { Health } from "../../ports/log-bus.ts";
import type { QueryCache } from "../../ports/query-cache.ts";
import { type BreakerState, createGuard } from "../guard.ts";

export type { BreakerState } from "../guard.ts";
export { breakerGaugeValue } from "../guard.ts";

export interface GuardOptions {
  /** A call without an answer by then counts as a failure. */
  timeoutMs?: number;
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** First wait before a trial call once open; doubles while trials fail, up to maxHalfOpenAfterMs. */
  halfOpenAfterMs?: number;
  maxHalfOpenAfterMs?: number;
  /** Called on every state change (for the circuit_breaker_state gauge). */
  onStateChange?: (state: BreakerState) => void;
}

export class GuardedCache implements QueryCache {
  private readonly guard;
  private readonly policy;

  constructor(
    private readonly inner: QueryCache,
    opts: GuardOptions = {},
  ) {
    this.guard = createGuard({
      timeoutMs: opts.timeoutMs ?? 250,
      failureThreshold: opts.failureThreshold ?? 3,
      halfOpenAfterMs: opts.halfOpenAfterMs ?? 1000,
      maxHalfOpenAfterMs: opts.maxHalfOpenAfterMs ?? 10_000,
    });
    this.policy = this.guard.policy;
    const listener = opts.onStateChange;
    if (listener) this.guard.breaker.onStateChange(() => listener(this.guard.state()));
  }

  get state(): BreakerState {
    return this.guard.state();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  /** Rejects at once while the circuit is open: the caller counts a bypass and reads the store. */
  get(key: string): Promise<string | undefined> {
    return this.policy.execute(() => this.inner.get(key));
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.policy.execute(() => this.inner.set(key, value, ttlMs));
  }

  /** In-process and synchronous: nothing to time out or to break. */
  peek(key: string): Blob | undefined {
    return this.inner.peek(key);
  }

  /**
   * The inner check runs through the breaker, so it is also the breaker's trial call once one is due: a
   * cache that came back is taken up again (and reported UP) without waiting for a query to try it.
   */
  async health(): Promise<Health> {
    const checked = this.policy
      .execute(async () => {
        const h = await this.inner.health();
        if (!h.ok) throw new Error(h.detail ?? "unhealthy");
        return h;
      })
      .catch(
        (error: unknown): Health => ({
          ok: false,
          detail: error instanceof Error ? error.message : String(error),
        }),
      );
    const h = await Promise.race([
      checked,
      Bun.sleep(1000).then((): Health => ({ ok: false, detail: "health check timed out" })),
    ]);
    const state = this.state;
    return { ok: h.ok && state !== "open", detail: `${h.detail ?? ""}; circuit ${state}`.replace(/^; /, "") };
  }
}
