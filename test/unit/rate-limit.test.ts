// Rate limiting: a true token bucket (burst at once, then the sustained rate), per client and overall, as 429s.

import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import {
  createRateLimiter,
  createTokenBucket,
  type RateLimitSettings,
  rateLimitGuard,
} from "../../src/http/rate-limit.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";

/** Requests `key` makes every `stepMs` from t=0 to t=durationMs; returns how many the bucket let through. */
const admitted = (rps: number, burst: number, durationMs: number, stepMs: number): number => {
  const bucket = createTokenBucket(rps, burst);
  let count = 0;
  for (let t = 0; t <= durationMs; t += stepMs) {
    if (bucket.waitMs("k", t) === 0) {
      bucket.take("k", t);
      count++;
    }
  }
  return count;
};

describe("token bucket", () => {
  test("a fresh client may spend the whole burst at once, then waits one interval", () => {
    const bucket = createTokenBucket(10, 5);
    for (let i = 0; i < 5; i++) {
      expect(bucket.waitMs("a", 1000)).toBe(0);
      bucket.take("a", 1000);
    }
    expect(bucket.waitMs("a", 1000)).toBeCloseTo(100, 6);
    expect(bucket.waitMs("a", 1099)).toBeCloseTo(1, 6);
    expect(bucket.waitMs("a", 1100)).toBe(0);
  });

  test("over a long run a client gets the burst plus the rate, never twice the rate", () => {
    // 10 s of a client asking every millisecond: 20 at once, then 10 per second.
    expect(admitted(10, 20, 10_000, 1)).toBe(20 + 100);
    // Whatever the window edges: any 1 s of the steady state admits at most rps (+1 at the boundary).
    const bucket = createTokenBucket(10, 20);
    const times: number[] = [];
    for (let t = 0; t <= 20_000; t++)
      if (bucket.waitMs("k", t) === 0) {
        bucket.take("k", t);
        times.push(t);
      }
    const steady = times.filter((t) => t >= 5_000);
    for (let start = 5_000; start < 19_000; start += 137) {
      const inWindow = steady.filter((t) => t >= start && t < start + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(10);
    }
  });

  test("an idle client refills at the rate, up to the burst and no further", () => {
    const bucket = createTokenBucket(2, 4);
    for (let i = 0; i < 4; i++) bucket.take("a", 0);
    expect(bucket.waitMs("a", 0)).toBeGreaterThan(0);
    // After 1 s: 2 tokens back.
    expect(bucket.waitMs("a", 1000)).toBe(0);
    bucket.take("a", 1000);
    bucket.take("a", 1000);
    expect(bucket.waitMs("a", 1000)).toBe(500);
    // After an hour: a full bucket (4), not 7200 tokens.
    let spent = 0;
    while (bucket.waitMs("a", 3_600_000) === 0 && spent < 100) {
      bucket.take("a", 3_600_000);
      spent++;
    }
    expect(spent).toBe(4);
  });

  test("fractional intervals do not turn an exact refill time into a refusal", () => {
    const bucket = createTokenBucket(3, 1);
    for (let i = 0; i < 300; i++) {
      const t = (i * 1000) / 3;
      expect(bucket.waitMs("a", t)).toBe(0);
      bucket.take("a", t);
    }
  });

  test("clients have separate buckets", () => {
    const bucket = createTokenBucket(1, 1);
    bucket.take("a", 0);
    expect(bucket.waitMs("a", 0)).toBe(1000);
    expect(bucket.waitMs("b", 0)).toBe(0);
  });

  test("a burst below 1 still lets one request through", () => {
    expect(admitted(1, 0, 0, 1)).toBe(1);
  });
});

describe("rate limit middleware", () => {
  const setup = (settings: RateLimitSettings) => {
    const metrics = createMetrics(new Registry(), { defaults: false });
    let now = 0;
    const app = new Hono();
    app.use("*", async (c, next) => {
      c.set("requestId", "r");
      c.set("client", c.req.header("x-client") ?? "anon");
      await next();
    });
    const limiter = createRateLimiter(settings, metrics, () => now);
    if (limiter) app.use("*", rateLimitGuard(limiter));
    app.get("/", (c) => c.text("ok"));
    return {
      metrics,
      advance: (ms: number) => {
        now += ms;
      },
      hit: (client = "anon") => app.request("/", { headers: { "x-client": client } }),
      limited: async (scope: string) =>
        (await metrics.rateLimited.get()).values.find((v) => v.labels.scope === scope)?.value ?? 0,
    };
  };

  test("with no limits configured no guard is installed", () => {
    expect(createRateLimiter({ rps: 0, burst: 0, globalRps: 0 })).toBeUndefined();
  });

  test("past its burst a client gets 429 with Retry-After and the refusal is counted", async () => {
    const s = setup({ rps: 2, burst: 3, globalRps: 0 });
    for (let i = 0; i < 3; i++) expect((await s.hit()).status).toBe(200);
    const refused = await s.hit();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(await refused.json()).toMatchObject({ error: "rate_limited", requestId: "r" });
    expect(await s.limited("client")).toBe(1);
    s.advance(500);
    expect((await s.hit()).status).toBe(200);
  });

  test("one client's refusals leave another client alone", async () => {
    const s = setup({ rps: 1, burst: 1, globalRps: 0 });
    expect((await s.hit("a")).status).toBe(200);
    expect((await s.hit("a")).status).toBe(429);
    expect((await s.hit("b")).status).toBe(200);
  });

  test("Retry-After rounds the wait up to whole seconds", async () => {
    const s = setup({ rps: 0.25, burst: 1, globalRps: 0 });
    expect((await s.hit()).status).toBe(200);
    s.advance(500);
    expect((await s.hit()).headers.get("retry-after")).toBe("4");
  });

  test("the overall limit holds across clients", async () => {
    const s = setup({ rps: 0, burst: 0, globalRps: 1 });
    expect((await s.hit("a")).status).toBe(200);
    expect((await s.hit("b")).status).toBe(200);
    const refused = await s.hit("c");
    expect(refused.status).toBe(429);
    expect(await s.limited("global")).toBe(1);
  });

  test("a request refused overall does not spend the client's own token", async () => {
    const s = setup({ rps: 0.5, burst: 1, globalRps: 1 });
    expect((await s.hit("a")).status).toBe(200);
    expect((await s.hit("b")).status).toBe(200);
    expect((await s.hit("c")).status).toBe(429);
    s.advance(1000);
    // The overall bucket has a token again; c's own (one per 2 s) is still full: the refusal took nothing.
    expect((await s.hit("c")).status).toBe(200);
  });
});
