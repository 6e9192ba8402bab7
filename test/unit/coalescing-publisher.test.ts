// The coalescing publisher: concurrent publishes share sends, a full queue is backpressure, never a bus failure.

import { describe, expect, test } from "bun:test";
import { type CoalescingOptions, CoalescingPublisher } from "../../src/adapters/bus/coalescing-publisher.ts";
import { guardPublisher } from "../../src/adapters/bus/guarded-publisher.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { rejectionOf, ScriptedPublisher, testEvent, testMetrics } from "../helpers/bus-doubles.ts";

const setup = (opts: Partial<CoalescingOptions> = {}) => {
  const inner = new ScriptedPublisher();
  inner.mode = "ok";
  const m = testMetrics();
  const guarded = guardPublisher(inner, {
    timeoutMs: 10_000,
    metrics: m,
    logger: silentLogger,
    failureThreshold: 2,
  });
  const coalescing = new CoalescingPublisher(guarded, {
    lingerMs: 5,
    maxBatchEvents: 1000,
    maxPendingEvents: 10_000,
    answerWithinMs: 10_000,
    metrics: m,
    ...opts,
  });
  return { inner, guarded, coalescing, m };
};

const sends = async (m: ReturnType<typeof testMetrics>, result = "ok") =>
  (await m.busSends.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

describe("sharing sends", () => {
  test("concurrent publishes go out in one send, each resolved by it, in the order they came", async () => {
    const { inner, coalescing, m } = setup();
    await Promise.all(Array.from({ length: 50 }, (_, i) => coalescing.publish([testEvent(i)])));
    expect(inner.calls).toBe(1);
    expect(inner.published[0]?.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => `e-${i}`));
    expect(await sends(m)).toBe(1);
    expect((await m.busPendingEvents.get()).values[0]?.value).toBe(0);
  });

  test("a failed send rejects every publish it carried", async () => {
    const { inner, coalescing } = setup();
    inner.mode = "fail";
    const errors = await Promise.all([1, 2, 3].map((i) => rejectionOf(coalescing.publish([testEvent(i)]))));
    expect(inner.calls).toBe(1);
    for (const e of errors) expect(e.code).toBe("unavailable");
  });

  test("while one send runs the next batch keeps growing; batches hold at most maxBatchEvents", async () => {
    const { inner, coalescing } = setup({ maxBatchEvents: 10, lingerMs: 0 });
    inner.hold();
    const first = coalescing.publish([testEvent(0)]);
    await Bun.sleep(5);
    const rest = Array.from({ length: 25 }, (_, i) => coalescing.publish([testEvent(i + 1)]));
    expect(inner.calls).toBe(1);
    inner.release();
    await Promise.all([first, ...rest]);
    expect(inner.published.map((b) => b.length)).toEqual([1, 10, 10, 5]);
  });

  test("a publish of maxBatchEvents or more goes out at once, alone and whole, beside the shared sends", async () => {
    const { inner, coalescing, m } = setup({ maxBatchEvents: 10 });
    inner.hold();
    const single = coalescing.publish([testEvent(100)]);
    await Bun.sleep(10);
    const big = coalescing.publish(Array.from({ length: 25 }, (_, i) => testEvent(i)));
    expect(inner.published.map((b) => b.length)).toEqual([1, 25]);
    expect(coalescing.refusal(9_975)?.code).toBe("overloaded");
    inner.release();
    await Promise.all([single, big]);
    expect(await sends(m)).toBe(2);
    expect((await m.busPendingEvents.get()).values[0]?.value).toBe(0);
  });
});

describe("backpressure", () => {
  test("past the in-flight limit: 'overloaded' with Retry-After, the bus untouched, the circuit closed", async () => {
    const { inner, guarded, coalescing, m } = setup({ maxPendingEvents: 3 });
    inner.hold();
    const held = [1, 2, 3].map((i) => coalescing.publish([testEvent(i)]));
    for (let i = 0; i < 5; i++) {
      const refused = await rejectionOf(coalescing.publish([testEvent(10 + i)]));
      expect(refused.code).toBe("overloaded");
      expect(refused.retryAfter).toBe(1);
    }
    expect(coalescing.refusal()?.code).toBe("overloaded");
    inner.release();
    await Promise.all(held);
    expect(guarded.circuit()).toBe("closed");
    expect(coalescing.refusal()).toBeUndefined();
    await coalescing.publish([testEvent(20)]);
    expect(inner.published.flat().map((e) => e.id)).toEqual(["e-1", "e-2", "e-3", "e-20"]);
    expect(await sends(m)).toBe(2);
  });

  test("waiting here past the answer bound is 'overloaded', is never sent, and never opens the circuit", async () => {
    const { inner, guarded, coalescing } = setup({ answerWithinMs: 50, lingerMs: 0 });
    inner.hold();
    const first = rejectionOf(coalescing.publish([testEvent(0)]));
    await Bun.sleep(5);
    const queued = [1, 2, 3, 4].map((i) => rejectionOf(coalescing.publish([testEvent(i)])));
    for (const e of await Promise.all(queued)) expect(e.code).toBe("overloaded");
    // The send in flight is late too: its caller is answered, and the send is left to the guard to judge.
    expect((await first).code).toBe("unavailable");
    inner.release();
    await Bun.sleep(5);
    expect(inner.published.flat().map((e) => e.id)).toEqual(["e-0"]);
    expect(guarded.circuit()).toBe("closed");
  });

  test("a detached publish stays queued past the answer bound and is sent once the bus answers", async () => {
    const { inner, coalescing } = setup({ answerWithinMs: 30, lingerMs: 0 });
    inner.hold();
    const first = coalescing.publish([testEvent(0)], { detached: true });
    await Bun.sleep(5);
    const later = coalescing.publish([testEvent(1)], { detached: true });
    await Bun.sleep(60);
    inner.release();
    await Promise.all([first, later]);
    expect(inner.published.flat().map((e) => e.id)).toEqual(["e-0", "e-1"]);
  });

  test("an open circuit refuses at once, before anything is queued", async () => {
    const { inner, guarded, coalescing } = setup();
    inner.mode = "fail";
    await rejectionOf(coalescing.publish([testEvent(1)]));
    await rejectionOf(coalescing.publish([testEvent(2)]));
    expect(guarded.circuit()).toBe("open");
    const refused = await rejectionOf(coalescing.publish([testEvent(3)]));
    expect(refused.code).toBe("unavailable");
    expect(refused.message).toContain("failing");
    expect(inner.calls).toBe(2);
  });

  test("stop sends what is still queued before stopping the bus", async () => {
    const { inner, coalescing } = setup({ lingerMs: 10_000 });
    const queued = coalescing.publish([testEvent(1)], { detached: true });
    await coalescing.stop();
    await queued;
    expect(inner.published.flat().map((e) => e.id)).toEqual(["e-1"]);
  });
});
