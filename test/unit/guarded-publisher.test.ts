// The guarded publisher: bounded publishes, a circuit breaker that fails fast and probes, and the bus metrics.

import { afterEach, describe, expect, test } from "bun:test";
import { guardPublisher } from "../../src/adapters/bus/guarded-publisher.ts";
import { MemoryBus } from "../../src/adapters/bus/memory.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import {
  breakerGauge,
  rejectionOf,
  ScriptedPublisher,
  sentCount,
  testEvent,
  testMetrics,
} from "../helpers/bus-doubles.ts";

const buses: MemoryBus[] = [];
const memoryBus = (): MemoryBus => {
  const bus = new MemoryBus({ retryDelayMs: 10 });
  buses.push(bus);
  return bus;
};
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.stop();
});

describe("on a working bus", () => {
  test("a publish reaches the bus and is counted ok with its duration", async () => {
    const bus = memoryBus();
    const seen: string[] = [];
    await bus.run(async (batch) => {
      for (const r of batch.records) seen.push(String(r.key));
    });
    const m = testMetrics();
    const guarded = guardPublisher(bus, { timeoutMs: 1000, metrics: m, logger: silentLogger });
    await guarded.publish([testEvent(1), testEvent(2)]);
    expect(seen).toEqual(["test", "test"]);
    expect(await sentCount(m, "ok")).toBe(2);
    expect(
      (await m.kafkaSendDuration.get()).values.find((v) => v.metricName?.endsWith("_count"))?.value,
    ).toBe(1);
    expect(await breakerGauge(m)).toBe(0);
    expect(guarded.circuit()).toBe("closed");
    expect(guarded.refusal()).toBeUndefined();
    expect(await guarded.health()).toMatchObject({ ok: true });
  });

  test("an empty publish touches nothing", async () => {
    const inner = new ScriptedPublisher();
    await guardPublisher(inner, { timeoutMs: 100, logger: silentLogger }).publish([]);
    expect(inner.calls).toBe(0);
  });
});

describe("bounds that grow with the publish", () => {
  test("a publish its boundsFor counts as several sends gets that many timeouts, a small one only one", async () => {
    const inner = new ScriptedPublisher();
    inner.mode = "ok";
    const guarded = guardPublisher(inner, {
      timeoutMs: 100,
      logger: silentLogger,
      boundsFor: (events) => events.length,
    });
    // Held for ~300 ms: past one bound (100 ms), well within ten (1 s).
    const slow = async (events: ReturnType<typeof testEvent>[]) => {
      inner.hold();
      const release = setTimeout(() => inner.release(), 300);
      try {
        return await guarded.publish(events).then(
          () => "ok",
          (e: { code?: string }) => e.code ?? "error",
        );
      } finally {
        clearTimeout(release);
        inner.release();
      }
    };
    expect(await slow(Array.from({ length: 10 }, (_, i) => testEvent(i)))).toBe("ok");
    expect(await slow([testEvent(10)])).toBe("unavailable");
  });
});

describe("when the bus fails", () => {
  test("a publish the bus never answers ends at the timeout as 'unavailable' with Retry-After", async () => {
    const bus = memoryBus(); // no consumer running: publish() waits forever
    const m = testMetrics();
    const guarded = guardPublisher(bus, { timeoutMs: 50, metrics: m, logger: silentLogger });
    const error = await rejectionOf(guarded.publish([testEvent()]));
    expect(error.code).toBe("unavailable");
    expect(error.retryAfter).toBe(1);
    expect(error.message).toContain("50 ms");
    expect(await sentCount(m, "timeout")).toBe(1);
  });

  test("an error of the bus becomes 'unavailable'; a domain error of the adapter passes unchanged", async () => {
    const inner = new ScriptedPublisher();
    const m = testMetrics();
    const guarded = guardPublisher(inner, { timeoutMs: 1000, metrics: m, logger: silentLogger });
    const plain = await rejectionOf(guarded.publish([testEvent()]));
    expect(plain.code).toBe("unavailable");
    expect(plain.message).toContain("ECONNREFUSED");
    inner.mode = "domain-error";
    const own = await rejectionOf(guarded.publish([testEvent()]));
    expect(own.message).toBe("kafka unavailable: no leader");
    expect(own.retryAfter).toBe(7);
    expect(await sentCount(m, "error")).toBe(2);
  });

  test("consecutive failures open the circuit; then publishes fail fast without touching the bus", async () => {
    const inner = new ScriptedPublisher();
    const m = testMetrics();
    const guarded = guardPublisher(inner, {
      timeoutMs: 1000,
      metrics: m,
      logger: silentLogger,
      failureThreshold: 3,
      halfOpenAfterMs: 3000,
    });
    for (let i = 0; i < 3; i++) await rejectionOf(guarded.publish([testEvent(i)]));
    expect(inner.calls).toBe(3);
    expect(guarded.circuit()).toBe("open");
    expect(await breakerGauge(m)).toBe(2);

    const fast = await rejectionOf(guarded.publish([testEvent(9), testEvent(10)]));
    expect(inner.calls).toBe(3);
    expect(fast.code).toBe("unavailable");
    expect(fast.retryAfter).toBe(3);
    expect(fast.message).toContain("ECONNREFUSED");
    expect(await sentCount(m, "rejected_open")).toBe(2);
    expect(guarded.refusal()?.code).toBe("unavailable");
  });

  test("a success in between resets the count of consecutive failures", async () => {
    const inner = new ScriptedPublisher();
    const guarded = guardPublisher(inner, { timeoutMs: 1000, logger: silentLogger, failureThreshold: 3 });
    await rejectionOf(guarded.publish([testEvent()]));
    await rejectionOf(guarded.publish([testEvent()]));
    inner.mode = "ok";
    await guarded.publish([testEvent()]);
    inner.mode = "fail";
    await rejectionOf(guarded.publish([testEvent()]));
    await rejectionOf(guarded.publish([testEvent()]));
    expect(guarded.circuit()).toBe("closed");
  });

  test("an overloaded bus (backpressure) passes its 503 through and never counts toward opening", async () => {
    const inner = new ScriptedPublisher();
    inner.mode = "overloaded";
    const m = testMetrics();
    const guarded = guardPublisher(inner, {
      timeoutMs: 1000,
      metrics: m,
      logger: silentLogger,
      failureThreshold: 2,
    });
    for (let i = 0; i < 5; i++) {
      const error = await rejectionOf(guarded.publish([testEvent(i)]));
      expect(error.code).toBe("overloaded");
      expect(error.retryAfter).toBe(1);
    }
    expect(guarded.circuit()).toBe("closed");
    expect(await sentCount(m, "overloaded")).toBe(5);
    inner.mode = "ok";
    await guarded.publish([testEvent(9)]);
  });

  test("timeouts count as failures too", async () => {
    const bus = memoryBus();
    const guarded = guardPublisher(bus, { timeoutMs: 20, logger: silentLogger, failureThreshold: 2 });
    await rejectionOf(guarded.publish([testEvent(1)]));
    await rejectionOf(guarded.publish([testEvent(2)]));
    expect(guarded.circuit()).toBe("open");
  });
});

describe("recovery", () => {
  const opened = async (halfOpenAfterMs: number) => {
    const inner = new ScriptedPublisher();
    const m = testMetrics();
    const guarded = guardPublisher(inner, {
      timeoutMs: 1000,
      metrics: m,
      logger: silentLogger,
      failureThreshold: 2,
      halfOpenAfterMs,
    });
    await rejectionOf(guarded.publish([testEvent()]));
    await rejectionOf(guarded.publish([testEvent()]));
    expect(guarded.circuit()).toBe("open");
    await Bun.sleep(halfOpenAfterMs + 20);
    return { inner, m, guarded };
  };

  test("after the break one probe goes through while others are refused; its success closes the circuit", async () => {
    const { inner, m, guarded } = await opened(40);
    inner.mode = "ok";
    inner.hold();
    const probe = guarded.publish([testEvent(1)]);
    expect(guarded.circuit()).toBe("half-open");
    expect(await breakerGauge(m)).toBe(1);
    const other = await rejectionOf(guarded.publish([testEvent(2)]));
    expect(other.retryAfter).toBe(1);
    expect(inner.calls).toBe(3);
    inner.release();
    await probe;
    expect(guarded.circuit()).toBe("closed");
    expect(await breakerGauge(m)).toBe(0);
    await guarded.publish([testEvent(3)]);
  });

  test("a failed probe opens the circuit again", async () => {
    const { inner, m, guarded } = await opened(40);
    await rejectionOf(guarded.publish([testEvent(1)]));
    expect(inner.calls).toBe(3);
    expect(guarded.circuit()).toBe("open");
    expect(await breakerGauge(m)).toBe(2);
    await rejectionOf(guarded.publish([testEvent(2)]));
    expect(inner.calls).toBe(3);
  });
});

describe("health", () => {
  test("reports the bus's own health while the circuit is closed", async () => {
    const inner = new ScriptedPublisher();
    inner.healthy = { ok: false, detail: "broker unreachable" };
    expect(await guardPublisher(inner, { timeoutMs: 100, logger: silentLogger }).health()).toEqual({
      ok: false,
      detail: "broker unreachable",
    });
  });

  test("a health check that never answers is unhealthy at the timeout", async () => {
    const inner = new ScriptedPublisher();
    inner.healthy = "hang";
    const h = await guardPublisher(inner, { timeoutMs: 30, logger: silentLogger }).health();
    expect(h.ok).toBe(false);
    expect(h.detail).toContain("30 ms");
  });

  test("an open circuit is unhealthy even when the bus answers its probe", async () => {
    const inner = new ScriptedPublisher();
    const guarded = guardPublisher(inner, { timeoutMs: 100, logger: silentLogger, failureThreshold: 1 });
    await rejectionOf(guarded.publish([testEvent()]));
    const h = await guarded.health();
    expect(h.ok).toBe(false);
    expect(h.detail).toContain("circuit open");
  });
});
