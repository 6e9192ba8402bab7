// Test doubles of OUR LogPublisher port (not of any driver) and small readers of the bus metrics.

import { DomainError, overloaded } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import type { Health, LogPublisher } from "../../src/ports/log-bus.ts";

/** A publisher whose behaviour the test sets: the stand-in for a broken, slow or recovering bus. */
export class ScriptedPublisher implements LogPublisher {
  calls = 0;
  /** The events of every publish, in call order. */
  readonly published: LogEvent[][] = [];
  mode: "fail" | "ok" | "domain-error" | "overloaded" = "fail";
  failure = "connect ECONNREFUSED 127.0.0.1:9092";
  healthy: Health | "hang" = { ok: true, detail: "scripted" };
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  /** Publishes from now on wait until release(). */
  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(events: LogEvent[]): Promise<void> {
    this.calls++;
    this.published.push(events);
    await this.gate;
    if (this.mode === "fail") throw new Error(this.failure);
    if (this.mode === "overloaded") throw overloaded("the bus queue is full");
    if (this.mode === "domain-error")
      throw new DomainError("unavailable", "kafka unavailable: no leader", { retryAfter: 7 });
  }
  health(): Promise<Health> {
    const h = this.healthy;
    return h === "hang" ? new Promise(() => {}) : Promise.resolve(h);
  }
}

/** A bus that is down: publishes fail like a refused connection and health says so. */
export const downPublisher = (): ScriptedPublisher => {
  const p = new ScriptedPublisher();
  p.healthy = { ok: false, detail: p.failure };
  return p;
};

export const testEvent = (n = 0): LogEvent => ({
  id: `e-${n}`,
  level: "INFO",
  message: `message ${n}`,
  source: "test",
  timestamp: 1_700_000_000_000 + n,
  metadata: null,
});

export const testMetrics = () => createMetrics(new Registry(), { defaults: false });
export type TestMetrics = ReturnType<typeof testMetrics>;

export const sentCount = async (m: TestMetrics, result: string): Promise<number> =>
  (await m.kafkaSent.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

export const breakerGauge = async (m: TestMetrics, name = "bus"): Promise<number | undefined> =>
  (await m.breakerState.get()).values.find((v) => v.labels.name === name)?.value;

/** The DomainError a promise rejects with (fails the test when it resolves or throws something else). */
export const rejectionOf = async (p: Promise<unknown>): Promise<DomainError> => {
  try {
    await p;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a rejection with a DomainError");
};
