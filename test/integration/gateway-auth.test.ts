// API keys on the gateway: every query needs a valid key once QUERY_API_KEYS is set; health stays open.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGatewayFixture, type GatewayFixture } from "./gateway-fixture.ts";

const QUERIES = ["logs", "logs/some-id", "search?query=x", "stats", "tail"];

describe("with QUERY_API_KEYS", () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await createGatewayFixture({ env: { QUERY_API_KEYS: "key-one, key-two" } });
    await f.write({ id: "some-id" });
  });
  afterAll(() => f.close());

  test("refuses every query without a key, with 401 in the error shape", async () => {
    for (const path of QUERIES) {
      const r = await f.get(path);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: "unauthorized", requestId: expect.any(String) });
      expect(r.headers.get("www-authenticate")).toContain("Bearer");
    }
  });

  test("refuses a wrong key, a key prefix and an empty bearer", async () => {
    const attempts: Record<string, string>[] = [
      { Authorization: "Bearer key-three" },
      { Authorization: "Bearer key-on" },
      { Authorization: "Bearer " },
      { Authorization: "key-one" },
      { "X-API-Key": "nope" },
    ];
    for (const headers of attempts) expect((await f.get("logs", headers)).status).toBe(401);
  });

  test("accepts any configured key as a bearer token or in X-API-Key", async () => {
    expect((await f.get("logs", { Authorization: "Bearer key-one" })).status).toBe(200);
    expect((await f.get("stats", { authorization: "bearer key-two" })).status).toBe(200);
    expect((await f.get("search?query=message", { "X-API-Key": "key-two" })).status).toBe(200);
    expect((await f.get("logs/some-id", { "X-API-Key": "key-one" })).status).toBe(200);
  });

  test("checks the key before the parameters: a bad request without a key is still a 401", async () => {
    expect((await f.get("logs?size=0")).status).toBe(401);
    expect((await f.get("logs?size=0", { "X-API-Key": "key-one" })).status).toBe(400);
  });

  test("leaves health open", async () => {
    for (const path of ["health", "/gateway/actuator/health"]) {
      const r = await f.get(path);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ status: "healthy", service: "api-gateway" });
      expect(r.body.components.store.status).toBe("healthy");
    }
  });
});

describe("metrics with METRICS_REQUIRE_KEY", () => {
  test("takes the query keys", async () => {
    const f = await createGatewayFixture({
      env: { ROLE: "gateway", QUERY_API_KEYS: "k", METRICS_REQUIRE_KEY: "true" },
    });
    try {
      expect((await f.get("/metrics")).status).toBe(401);
      const ok = await f.get("/metrics", { "X-API-Key": "k" });
      expect(ok.status).toBe(200);
      expect(String(ok.body)).toContain("cache_requests_total");
    } finally {
      await f.close();
    }
  });

  test("without it, metrics are open", async () => {
    const f = await createGatewayFixture({ env: { QUERY_API_KEYS: "k" } });
    try {
      expect((await f.get("/gateway/actuator/prometheus")).status).toBe(200);
    } finally {
      await f.close();
    }
  });
});

describe("without QUERY_API_KEYS", () => {
  test("queries are open", async () => {
    const f = await createGatewayFixture();
    try {
      expect((await f.get("logs")).status).toBe(200);
    } finally {
      await f.close();
    }
  });
});
