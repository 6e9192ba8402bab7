// The gateway takes the producer's RATE_LIMIT_* settings: every query route and the hot path before routing.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createGatewayFixture, type GatewayFixture } from "./gateway-fixture.ts";

setDefaultTimeout(60_000);

describe("gateway rate limit", () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await createGatewayFixture({
      env: { QUERY_API_KEYS: "k1,k2", RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "3" },
    });
    await f.write({ id: "rl-1" });
  });
  afterAll(async () => {
    await f.close();
  });
  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  test("a client past its burst gets 429 JSON with Retry-After, on cached answers too; others are unaffected", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await f.get("logs?size=5", as("k1"))).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await f.get("logs?size=5", as("k1"));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({ error: "rate_limited", requestId: expect.any(String) });

    // The answer is now cached: k2's requests are served by the hot path before routing, limited alike.
    const hot = [];
    for (let i = 0; i < 4; i++) hot.push((await f.get("logs?size=5", as("k2"))).status);
    expect(hot).toEqual([200, 200, 200, 429]);
    // Each refusal counted once, whichever path saw it first.
    expect(await f.counter("rate_limited_total", { scope: "client" })).toBe(3);
  });

  test("every query route takes a token: search, stats, by id and the tail", async () => {
    const key = as("k2");
    for (const path of ["search?query=x", "stats", "logs/rl-1", "tail"])
      expect((await f.get(path, key)).status).toBe(429);
  });
});
