// How the query service treats the store and the cache: one read per concurrent miss, and failures mapped.

import { describe, expect, test } from "bun:test";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import type { LogReader } from "../../src/ports/log-store.ts";
import type { QueryCache } from "../../src/ports/query-cache.ts";
import { createGatewayFixture, delegatingCache } from "./gateway-fixture.ts";

/** A cache whose every call fails, as a broken one would. */
const brokenCache: QueryCache = {
  start: async () => {},
  stop: async () => {},
  get: async () => {
    throw new Error("cache down");
  },
  set: async () => {
    throw new Error("cache down");
  },
  peek: () => undefined,
  health: async () => ({ ok: false, detail: "down" }),
};

describe("query service", () => {
  test("concurrent identical misses share one store read", async () => {
    let reads = 0;
    const f = await createGatewayFixture({
      reader: (r): LogReader => ({
        ...r,
        page: async (q) => {
          reads++;
          await Bun.sleep(30);
          return r.page(q);
        },
      }),
    });
    try {
      await f.write({ id: "one" });
      const answers = await Promise.all(Array.from({ length: 20 }, () => f.get("logs?source=svc-a")));
      expect(answers.every((a) => a.status === 200 && a.body.content[0].id === "one")).toBe(true);
      expect(reads).toBe(1);
    } finally {
      await f.close();
    }
  });

  test("concurrent identical lookups share one cache read", async () => {
    let gets = 0;
    const slow = new MemoryCache();
    const f = await createGatewayFixture({
      cache: () =>
        delegatingCache(slow, {
          peek: () => undefined,
          get: async (k) => {
            gets++;
            await Bun.sleep(30);
            return slow.get(k);
          },
        }),
    });
    try {
      await f.write({ id: "one" });
      const answers = await Promise.all(Array.from({ length: 20 }, () => f.get("logs?source=svc-a")));
      expect(answers.every((a) => a.status === 200 && a.body.content[0].id === "one")).toBe(true);
      expect(gets).toBe(1);
      expect(await f.counter("cache_requests_total", { result: "miss" })).toBe(20);
      // Settled lookups are not kept: the next request reads the cache again, and finds the answer.
      expect((await f.get("logs?source=svc-a")).body.content[0].id).toBe("one");
      expect(gets).toBe(2);
      expect(await f.counter("cache_requests_total", { result: "hit" })).toBe(1);
    } finally {
      await f.close();
    }
  });

  test("a hot answer serves while a fresher watermark is read, twice the reuse window at most", async () => {
    let hold: Promise<void> | undefined;
    let release = () => {};
    const reuseMs = 400;
    const f = await createGatewayFixture({
      reader: (r): LogReader => ({
        ...r,
        watermark: async () => {
          if (hold) await hold;
          return r.watermark();
        },
      }),
      watermarkReuseMs: reuseMs,
    });
    try {
      await f.write({ id: "one" });
      const path = "logs?source=svc-a";
      expect((await f.get(path)).body.content[0].id).toBe("one");
      hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const readAt = Date.now();
      await Bun.sleep(reuseMs + 20);
      // The watermark is stale and its read hangs: the hot path still answers from the last one.
      const during = await f.get(path);
      expect(during.body.content[0].id).toBe("one");
      expect(Date.now() - readAt).toBeLessThan(2 * reuseMs);
      expect(await f.counter("cache_requests_total", { result: "hit" })).toBe(1);
      await Bun.sleep(2 * reuseMs - (Date.now() - readAt) + 20);
      // Past twice the window the answer waits for the read.
      let settled = false;
      const after = f.get(path).then((a) => {
        settled = true;
        return a;
      });
      await Bun.sleep(50);
      expect(settled).toBe(false);
      release();
      expect((await after).body.content[0].id).toBe("one");
    } finally {
      release();
      await f.close();
    }
  });

  test("a cache that fails is bypassed: answers come from the store, never an error", async () => {
    const f = await createGatewayFixture({ cache: () => brokenCache });
    try {
      await f.write({ id: "direct" });
      for (let i = 0; i < 3; i++) expect((await f.get("logs")).body.content[0].id).toBe("direct");
      expect(await f.counter("cache_requests_total", { result: "bypass" })).toBe(3);
      expect((await f.get("health")).body).toMatchObject({
        status: "healthy",
        components: { cache: { status: "unhealthy" } },
      });
    } finally {
      await f.close();
    }
  });

  test("a failing store answers 503 unavailable with Retry-After, and the gateway recovers with it", async () => {
    let down = true;
    const fail = <T>(run: () => Promise<T>) =>
      down ? Promise.reject(new Error("connection refused")) : run();
    const f = await createGatewayFixture({
      reader: (r): LogReader => ({
        ...r,
        watermark: () => fail(() => r.watermark()),
        findById: (id) => fail(() => r.findById(id)),
      }),
      watermarkReuseMs: 0,
    });
    try {
      await f.write({ id: "x" });
      for (const path of ["logs", "search?query=x", "stats"]) {
        const r = await f.get(path);
        expect(r.status).toBe(503);
        expect(r.body).toMatchObject({ error: "unavailable", requestId: expect.any(String) });
        expect(r.headers.get("retry-after")).toBe("1");
      }
      expect((await f.get("logs/x")).status).toBe(503);
      down = false;
      expect((await f.get("logs")).status).toBe(200);
      expect((await f.get("logs/x")).status).toBe(200);
    } finally {
      await f.close();
    }
  });
});
