// The query cache seen through the gateway: hits on repeats, fresh at the live edge, and bypassed when Redis fails.

import { afterAll, afterEach, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { Redis } from "ioredis";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { QueryCache } from "../../src/ports/query-cache.ts";
import { createCache } from "../../src/roles/adapters.ts";
import { TEST_REDIS_URL, uniqueName } from "../helpers/services.ts";
import {
  BASE,
  createGatewayFixture,
  delegatingCache,
  eventually,
  type FixtureOptions,
  type GatewayFixture,
  qs,
} from "./gateway-fixture.ts";

const prefixes: string[] = [];
const admin = new Redis(TEST_REDIS_URL, { lazyConnect: true });
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
  }
  await admin.quit();
});

const withRedis = (url: string, timeoutMs?: number): FixtureOptions => {
  const keyPrefix = `${uniqueName("gw")}:`;
  prefixes.push(keyPrefix);
  return {
    env: { REDIS_URL: url },
    cache: (config, metrics) =>
      createCache(config, metrics, silentLogger, { keyPrefix, ...(timeoutMs ? { timeoutMs } : {}) }),
  };
};

const open: GatewayFixture[] = [];
const fixture = async (opts: FixtureOptions = {}): Promise<GatewayFixture> => {
  const f = await createGatewayFixture(opts);
  open.push(f);
  return f;
};
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

const ids = async (f: GatewayFixture, path: string): Promise<string[]> => {
  const r = await f.get(path);
  expect(r.status).toBe(200);
  return r.body.content.map((e: { id: string }) => e.id);
};

/** Counts the calls that reach the cache; hot answers use peek() alone. */
const counted = (opts: FixtureOptions) => {
  const calls = { get: 0, peek: 0, peekHits: 0 };
  const wrapped: FixtureOptions = {
    ...opts,
    cache: (config, metrics) => {
      const inner: QueryCache = opts.cache ? opts.cache(config, metrics) : new MemoryCache();
      return delegatingCache(inner, {
        get: (k) => {
          calls.get++;
          return inner.get(k);
        },
        peek: (k) => {
          calls.peek++;
          const bytes = inner.peek(k);
          if (bytes) calls.peekHits++;
          return bytes;
        },
      });
    },
  };
  return { wrapped, calls };
};

const cacheBehaviour = (name: string, opts: () => FixtureOptions) => {
  describe(`cache behaviour: ${name}`, () => {
    test("a repeated query is a hit, counted in cache_requests_total", async () => {
      const f = await fixture(opts());
      await f.write({ message: "cached" });
      expect((await f.get("logs?level=INFO")).status).toBe(200);
      expect(await f.counter("cache_requests_total", { result: "miss" })).toBe(1);
      const first = await f.get("logs?level=INFO");
      const second = await f.get("logs?level=INFO");
      expect(second.body).toEqual(first.body);
      expect(await f.counter("cache_requests_total", { result: "hit" })).toBeGreaterThanOrEqual(1);
      expect(await f.counter("cache_requests_total", { result: "bypass" })).toBe(0);
    });

    test("equivalent queries share an entry: list order and case do not matter", async () => {
      const f = await fixture(opts());
      await f.write({ level: "WARN" });
      await f.get("logs?level=warn,error");
      const misses = await f.counter("cache_requests_total", { result: "miss" });
      await f.get("logs?level=ERROR,WARN");
      expect(await f.counter("cache_requests_total", { result: "miss" })).toBe(misses);
    });

    test("a new event shows in a repeated live query within the bound", async () => {
      const f = await fixture(opts());
      await f.write({ id: "old" });
      expect(await ids(f, "logs")).toEqual(["old"]);
      expect(await ids(f, "search?query=message")).toEqual(["old"]);
      await f.write({ id: "new" });
      expect(await eventually(async () => (await ids(f, "logs")).includes("new"))).toBe(true);
      expect(await eventually(async () => (await ids(f, "search?query=message")).includes("new"))).toBe(true);
    });

    test("a late event inside a past window shows although that window is cached for long", async () => {
      const f = await fixture(opts());
      const t = Date.now() - 3_600_000;
      const window = qs({ startTime: t - 60_000, endTime: t + 60_000 });
      await f.write({ id: "on-time", timestamp: t });
      expect(await ids(f, `logs?${window}`)).toEqual(["on-time"]);
      expect(await ids(f, `logs?${window}`)).toEqual(["on-time"]);
      await f.write({ id: "late", timestamp: t + 1 });
      expect(await eventually(async () => (await ids(f, `logs?${window}`)).includes("late"))).toBe(true);
    });

    test("an event by id is cached, and an unknown id is not (it may arrive)", async () => {
      const f = await fixture(opts());
      expect((await f.get("logs/later")).status).toBe(404);
      await f.write({ id: "later", message: "arrived" });
      expect((await f.get("logs/later")).body.message).toBe("arrived");
      expect((await f.get("logs/later")).body.message).toBe("arrived");
      expect(await f.counter("cache_requests_total", { result: "hit" })).toBeGreaterThanOrEqual(1);
    });

    test("a hot repeat is answered from this process's copy: the routed answer's bytes and headers, counted alike", async () => {
      const { wrapped, calls } = counted(opts());
      const f = await fixture(wrapped);
      await f.write({ message: "hot one", level: "ERROR" }, { message: "hot two", level: "WARN" });
      for (const path of ["logs?level=ERROR,WARN&size=5", "search?query=hot&size=5"]) {
        const url = `${BASE}/${path}`;
        const routed = await f.app.request(url);
        const routedText = await routed.text();
        expect(routed.status).toBe(200);
        const gets = calls.get;
        const hits = calls.peekHits;
        const hot = await f.app.request(url, { headers: { "X-Request-Id": "caller-id-1" } });
        expect(hot.status).toBe(200);
        // Served by peek alone: no get() reached the cache.
        expect(calls.get).toBe(gets);
        expect(calls.peekHits).toBe(hits + 1);
        expect(await hot.text()).toBe(routedText);
        expect(hot.headers.get("content-type")).toBe(routed.headers.get("content-type"));
        expect(hot.headers.get("x-request-id")).toBe("caller-id-1");
        const generated = await f.app.request(url);
        expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
        expect(generated.headers.get("x-request-id")).not.toBe(routed.headers.get("x-request-id"));
      }
      expect(await f.counter("cache_requests_total", { result: "miss" })).toBe(2);
      expect(await f.counter("cache_requests_total", { result: "hit" })).toBe(4);
      expect(await f.counter("log_queries_total", { endpoint: "logs" })).toBe(3);
      expect(await f.counter("log_queries_total", { endpoint: "search" })).toBe(3);
      expect(await f.counter("http_requests_total", { role: "gateway", status: "200" })).toBe(6);
      const text = String((await f.get("/metrics")).body);
      expect(text).toContain('log_query_duration_seconds_count{endpoint="logs"} 3');
    });

    test("a hot answer still needs the key: without one it is a 401, with one it is served from the copy", async () => {
      const { wrapped, calls } = counted({ ...opts(), env: { ...opts().env, QUERY_API_KEYS: "k1,k2" } });
      const f = await fixture(wrapped);
      await f.write({ message: "secret" });
      const url = `${BASE}/logs?size=5`;
      expect((await f.app.request(url, { headers: { Authorization: "Bearer k1" } })).status).toBe(200);
      const gets = calls.get;
      const refused: Record<string, string>[] = [
        {},
        { Authorization: "Bearer nope" },
        { "X-API-Key": "k" },
        { "X-API-Key": "" },
      ];
      for (const headers of refused) {
        const r = await f.app.request(url, { headers });
        expect(r.status).toBe(401);
        expect(r.headers.get("www-authenticate")).toContain("Bearer");
        expect(await r.text()).not.toContain("secret");
      }
      const hot = await f.app.request(url, { headers: { "X-API-Key": "k2" } });
      expect(hot.status).toBe(200);
      expect(await hot.text()).toContain("secret");
      expect(calls.get).toBe(gets);
    });

    test("only an exact GET of a listing path is hot: HEAD, other paths and a changed query take the routes", async () => {
      const { wrapped, calls } = counted(opts());
      const f = await fixture(wrapped);
      await f.write({ message: "once" });
      const url = `${BASE}/logs?size=5`;
      expect((await f.app.request(url)).status).toBe(200);
      const hits = calls.peekHits;
      const head = await f.app.request(url, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
      expect((await f.app.request(`${BASE}/logs/?size=5`)).status).toBe(404);
      expect((await f.app.request(`${BASE}/logs?size=5&page=0`)).status).toBe(200);
      expect((await f.app.request(`${BASE}/logs?size=0`)).status).toBe(400);
      expect(calls.peekHits).toBe(hits);
    });

    test("query metrics count every endpoint and time it", async () => {
      const f = await fixture(opts());
      await f.get("logs");
      await f.get("search?query=x");
      await f.get("stats");
      const text = String((await f.get("/metrics")).body);
      for (const endpoint of ["logs", "search", "stats"]) {
        expect(text).toContain(`log_queries_total{endpoint="${endpoint}"} 1`);
        expect(text).toContain(`log_query_duration_seconds_count{endpoint="${endpoint}"} 1`);
      }
    });
  });
};

cacheBehaviour("in-memory", () => ({}));
cacheBehaviour("redis", () => withRedis(TEST_REDIS_URL));

/** A TCP server that accepts connections and never answers: a Redis that hangs. */
const silentServer = (): TCPSocketListener<undefined> =>
  Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data: (_s: Socket<undefined>) => {} },
  });

describe("redis outage", () => {
  const answersFromStore = async (f: GatewayFixture) => {
    await f.write({ id: "e1", level: "ERROR", message: "still here" });
    for (let i = 0; i < 8; i++) {
      for (const path of ["logs", `logs?page=${i}`, "search?query=still", "stats", "logs/e1"]) {
        const r = await f.get(path);
        expect(r.status).toBe(200);
      }
    }
    expect((await f.get("logs")).body.content[0].id).toBe("e1");
    expect(await f.counter("cache_requests_total", { result: "bypass" })).toBeGreaterThan(0);
    expect(await f.counter("cache_requests_total", { result: "hit" })).toBeGreaterThan(0);
  };

  test("a dead Redis: every query answered from the store, bypass counted, circuit opened", async () => {
    const f = await fixture(withRedis("redis://127.0.0.1:1"));
    await answersFromStore(f);
    expect(await f.counter("circuit_breaker_state", { name: "redis" })).toBe(2);
    const health = await f.get("health");
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("healthy");
    expect(health.body.components.cache.status).toBe("unhealthy");
  });

  test("a Redis that hangs: queries time out of it and are answered from the store", async () => {
    const server = silentServer();
    try {
      const f = await fixture(withRedis(`redis://127.0.0.1:${server.port}`, 100));
      await answersFromStore(f);
      expect(await f.counter("circuit_breaker_state", { name: "redis" })).toBe(2);
    } finally {
      server.stop(true);
    }
  });
});
