// Runs the QueryCache contract against the embedded in-memory cache and the L1 over it; the breaker and the L1 on their own.

import { describe, expect, test } from "bun:test";
import { type BreakerState, breakerGaugeValue, GuardedCache } from "../../src/adapters/cache/guarded.ts";
import { LayeredCache } from "../../src/adapters/cache/layered.ts";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { queryCacheContract } from "./query-cache.contract.ts";

queryCacheContract(
  "memory",
  async () => {
    const cache = new MemoryCache();
    return { cache, cleanup: () => cache.stop() };
  },
  { inProcess: true },
);

queryCacheContract(
  "in-process L1 over memory",
  async () => {
    const cache = new LayeredCache(new MemoryCache(), { l1TtlMs: 1000, maxEntries: 50 });
    return { cache, cleanup: () => cache.stop() };
  },
  { inProcess: true },
);

/** A cache that counts calls and fails or hangs on demand. */
class FlakyCache extends MemoryCache {
  calls = 0;
  mode: "ok" | "fail" | "hang" = "ok";
  override async get(key: string): Promise<string | undefined> {
    this.calls++;
    if (this.mode === "fail") throw new Error("down");
    if (this.mode === "hang") return new Promise(() => {});
    return super.get(key);
  }
  override async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.calls++;
    if (this.mode === "fail") throw new Error("down");
    if (this.mode === "hang") return new Promise(() => {});
    return super.set(key, value, ttlMs);
  }
}

const rejects = async (p: Promise<unknown>): Promise<boolean> =>
  p.then(
    () => false,
    () => true,
  );

describe("GuardedCache", () => {
  test("passes calls through while closed", async () => {
    const inner = new FlakyCache();
    const cache = new GuardedCache(inner);
    await cache.set("k", "v", 10_000);
    expect(await cache.get("k")).toBe("v");
    expect(cache.state).toBe("closed");
  });

  test("opens after consecutive failures, then rejects at once without calling the cache", async () => {
    const inner = new FlakyCache();
    const states: BreakerState[] = [];
    const cache = new GuardedCache(inner, {
      failureThreshold: 3,
      halfOpenAfterMs: 60_000,
      onStateChange: (s) => states.push(s),
    });
    inner.mode = "fail";
    for (let i = 0; i < 3; i++) expect(await rejects(cache.get("k"))).toBe(true);
    expect(cache.state).toBe("open");
    expect(states).toEqual(["open"]);
    const calls = inner.calls;
    expect(await rejects(cache.get("k"))).toBe(true);
    expect(await rejects(cache.set("k", "v", 1000))).toBe(true);
    expect(inner.calls).toBe(calls);
    expect((await cache.health()).ok).toBe(false);
    expect(breakerGaugeValue(cache.state)).toBe(2);
  });

  test("a call that hangs is rejected at the timeout and counts as a failure", async () => {
    const inner = new FlakyCache();
    const cache = new GuardedCache(inner, { timeoutMs: 30, failureThreshold: 2, halfOpenAfterMs: 60_000 });
    inner.mode = "hang";
    expect(await rejects(cache.get("k"))).toBe(true);
    expect(await rejects(cache.get("k"))).toBe(true);
    expect(cache.state).toBe("open");
  });

  test("half-opens after the wait and closes on a successful trial", async () => {
    const inner = new FlakyCache();
    const states: BreakerState[] = [];
    const cache = new GuardedCache(inner, {
      failureThreshold: 1,
      halfOpenAfterMs: 50,
      onStateChange: (s) => states.push(s),
    });
    inner.mode = "fail";
    expect(await rejects(cache.get("k"))).toBe(true);
    inner.mode = "ok";
    const closed = async () => {
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        if (!(await rejects(cache.get("k"))) && cache.state === "closed") return true;
        await Bun.sleep(20);
      }
      return false;
    };
    expect(await closed()).toBe(true);
    expect(states).toEqual(["open", "half-open", "closed"]);
    expect(states.map(breakerGaugeValue)).toEqual([2, 1, 0]);
  });
});

describe("LayeredCache", () => {
  test("serves a hot key from the L1 without asking the shared cache", async () => {
    const shared = new FlakyCache();
    const cache = new LayeredCache(shared);
    await cache.set("k", "v", 10_000);
    const calls = shared.calls;
    for (let i = 0; i < 5; i++) expect(await cache.get("k")).toBe("v");
    expect(shared.calls).toBe(calls);
  });

  test("keeps serving what it holds while the shared cache fails, and reports a miss as a failure", async () => {
    const shared = new FlakyCache();
    const cache = new LayeredCache(shared);
    shared.mode = "fail";
    expect(await rejects(cache.set("k", "v", 10_000))).toBe(true);
    expect(await cache.get("k")).toBe("v");
    expect(await rejects(cache.get("other"))).toBe(true);
  });

  test("a copy taken from the shared cache never outlives the lifetime its writer gave it", async () => {
    const shared = new MemoryCache();
    const writer = new LayeredCache(shared);
    const reader = new LayeredCache(shared, { l1TtlMs: 60_000 });
    await writer.set("k", "v", 100);
    expect(await reader.get("k")).toBe("v");
    const deadline = Date.now() + 3000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      gone = (await reader.get("k")) === undefined;
      await Bun.sleep(20);
    }
    expect(gone).toBe(true);
  });

  test("a value it did not write is a miss", async () => {
    const shared = new MemoryCache();
    await shared.set("k", "plain value", 10_000);
    expect(await new LayeredCache(shared).get("k")).toBeUndefined();
  });

  test("stays within its entry bound, oldest first", async () => {
    const cache = new LayeredCache(new FlakyCache(), { maxEntries: 3 });
    for (const k of ["a", "b", "c", "d"]) await cache.set(k, k, 10_000);
    expect((await cache.health()).detail).toContain("l1 3 entries");
  });
});
