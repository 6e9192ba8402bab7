// What the replaced design's clients rely on at the gateway: its health shape, and CORS on the query API
// (CORS_ORIGINS), on routed answers and hot answers alike.

import { afterEach, describe, expect, test } from "bun:test";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import type { LogReader } from "../../src/ports/log-store.ts";
import { BASE, createGatewayFixture, delegatingCache, type GatewayFixture } from "./gateway-fixture.ts";

const fixtures: GatewayFixture[] = [];
const fixture = async (opts: Parameters<typeof createGatewayFixture>[0] = {}) => {
  const f = await createGatewayFixture(opts);
  fixtures.push(f);
  return f;
};
afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.close();
});

const PAGE = "https://app.example.com";

const preflight = (f: GatewayFixture, path: string, origin = PAGE, headers = "authorization") =>
  f.app.request(`${BASE}/${path}`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "GET",
      "Access-Control-Request-Headers": headers,
    },
  });

describe("health, as the replaced design answered it", () => {
  test("healthy: status healthy, service api-gateway, a timestamp, and the components beside", async () => {
    const f = await fixture();
    for (const path of ["health", "/gateway/actuator/health"]) {
      const r = await f.get(path);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        status: "healthy",
        service: "api-gateway",
        components: { store: { status: "healthy" }, cache: { status: "healthy" } },
      });
      expect(Number.isNaN(Date.parse(r.body.timestamp))).toBe(false);
      expect(r.body.reason).toBeUndefined();
    }
  });

  test("a store that is down: 503, status unhealthy, and the reason naming it", async () => {
    const f = await fixture({
      reader: (r): LogReader => ({
        ...r,
        health: async () => ({ ok: false, detail: "connect ECONNREFUSED" }),
      }),
    });
    const r = await f.get("health");
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({
      status: "unhealthy",
      service: "api-gateway",
      reason: "store: connect ECONNREFUSED",
      components: { store: { status: "unhealthy", detail: "connect ECONNREFUSED" } },
    });
  });
});

describe("CORS with the default CORS_ORIGINS (*)", () => {
  test("a preflight is 204 with the methods and every header a client sends, before any key check", async () => {
    const f = await fixture({ env: { QUERY_API_KEYS: "k" } });
    for (const path of ["logs", "search", "stats", "logs/some-id", "tail", "health"]) {
      const r = await preflight(f, path, PAGE, "authorization, x-api-key, last-event-id");
      expect(r.status).toBe(204);
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
      expect(r.headers.get("access-control-allow-methods")).toContain("GET");
      const allowed = (r.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
      for (const h of ["authorization", "x-api-key", "content-type", "last-event-id"])
        expect(allowed).toContain(h);
    }
  });

  test("answers carry Access-Control-Allow-Origin: routed, refused (401) and hot alike", async () => {
    const peeks = { hits: 0 };
    const f = await fixture({
      env: { QUERY_API_KEYS: "k" },
      cache: () => {
        const inner = new MemoryCache();
        return delegatingCache(inner, {
          peek: (key) => {
            const v = inner.peek(key);
            if (v !== undefined) peeks.hits++;
            return v;
          },
        });
      },
    });
    await f.write({ message: "seen from another origin" });
    const url = `${BASE}/logs?size=5`;
    const headers = { Origin: PAGE, Authorization: "Bearer k" };
    const routed = await f.app.request(url, { headers });
    expect(routed.status).toBe(200);
    expect(peeks.hits).toBe(0);
    const hot = await f.app.request(url, { headers });
    expect(hot.status).toBe(200);
    expect(peeks.hits).toBe(1);
    for (const name of ["access-control-allow-origin", "access-control-expose-headers"]) {
      expect(routed.headers.get(name)).not.toBeNull();
      expect(hot.headers.get(name)).toBe(routed.headers.get(name));
    }
    expect(routed.headers.get("access-control-allow-origin")).toBe("*");
    const refused = await f.app.request(url, { headers: { Origin: PAGE } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("*");
    expect(refused.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
  });

  test("only the query API takes part: the UI and metrics paths answer no preflight", async () => {
    const f = await fixture();
    const r = await f.app.request("/metrics", {
      method: "OPTIONS",
      headers: { Origin: PAGE, "Access-Control-Request-Method": "GET" },
    });
    expect(r.status).toBe(404);
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("CORS with a list of origins", () => {
  const env = { CORS_ORIGINS: `${PAGE}, http://localhost:5173` };

  test("an origin on the list is echoed with Vary: Origin, on routed and hot answers", async () => {
    const f = await fixture({ env });
    await f.write({ message: "listed" });
    const url = `${BASE}/logs?size=3`;
    for (let i = 0; i < 2; i++) {
      const r = await f.app.request(url, { headers: { Origin: "http://localhost:5173" } });
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
      expect(r.headers.get("vary")).toContain("Origin");
    }
    const p = await preflight(f, "logs");
    expect(p.status).toBe(204);
    expect(p.headers.get("access-control-allow-origin")).toBe(PAGE);
  });

  test("another origin gets no Allow-Origin (the browser refuses), while the answer itself is unchanged", async () => {
    const f = await fixture({ env });
    await f.write({ message: "listed" });
    const url = `${BASE}/logs?size=3`;
    for (let i = 0; i < 2; i++) {
      const r = await f.app.request(url, { headers: { Origin: "https://evil.example" } });
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBeNull();
      expect(r.headers.get("vary")).toContain("Origin");
    }
    const p = await preflight(f, "logs", "https://evil.example");
    expect(p.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("an empty CORS_ORIGINS turns CORS off: no header, and a preflight is not answered", async () => {
    const f = await fixture({ env: { CORS_ORIGINS: "" } });
    expect((await preflight(f, "logs")).status).toBe(404);
    const r = await f.app.request(`${BASE}/logs`, { headers: { Origin: PAGE } });
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
  });
});
