// With API keys configured, every data route the apps actually register refuses a missing or wrong key with 401.
//
// The routes are read from the Hono apps themselves (app.routes), not from a list in this file: a route added
// later without the key check fails here. Health stays open; the browser UI's static files are open by design
// (the page asks for the key and sends it with every query).

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Hono } from "hono";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createConsumerApp } from "../../src/http/consumer-app.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { buildGatewayApp } from "../../src/roles/gateway.ts";
import { buildProducerApp } from "../../src/roles/producer.ts";
import { ScriptedPublisher, testMetrics } from "../helpers/bus-doubles.ts";

setDefaultTimeout(60_000);

const INGEST_KEYS = ["ingest-key-Alpha-7c1f", "ingest-key-Beta-90d2"];
const QUERY_KEYS = ["query-key-Gamma-3e44", "query-key-Delta-5a6b"];
const ENV = { INGEST_API_KEYS: INGEST_KEYS.join(","), QUERY_API_KEYS: QUERY_KEYS.join(",") };

type Kind = "health" | "metrics" | "ui" | "data";

/** What a route is by its path; anything not recognised is a data route and must take a key. */
const kindOf = (path: string): Kind => {
  // Elasticsearch's cluster health is part of its API, behind the key like the rest of it.
  if (/\/health$/.test(path) && !path.startsWith("/_cluster/")) return "health";
  if (path === "/metrics" || path.endsWith("/prometheus")) return "metrics";
  if (path === "/" || path === "/gateway/ui" || path.startsWith("/gateway/ui/")) return "ui";
  return "data";
};

interface RouteInfo {
  method: string;
  path: string;
  kind: Kind;
}

/** The app's own routes (middleware registered with app.use is not a route). */
const routesOf = (app: Hono): RouteInfo[] => {
  const seen = new Map<string, RouteInfo>();
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path === "/*" || r.path === "*") continue;
    // Elasticsearch's index-exists check answers HEAD only (Hono serves HEAD through the GET route).
    const method = r.method === "GET" && r.path === "/:index" ? "HEAD" : r.method;
    seen.set(`${method} ${r.path}`, { method, path: r.path, kind: kindOf(r.path) });
  }
  return [...seen.values()];
};

const concrete = (path: string): string => path.replace(/:[A-Za-z_]+/g, "some-id");

const EVENT = JSON.stringify({ level: "info", message: "must never be published", source: "auth-test" });

const hasBody = (method: string): boolean => method === "POST" || method === "PUT";

const request = (app: Hono, r: RouteInfo, headers: Record<string, string>, body = EVENT) =>
  app.request(concrete(r.path), {
    method: r.method,
    headers: { ...(hasBody(r.method) ? { "content-type": "application/json" } : {}), ...headers },
    ...(hasBody(r.method) ? { body } : {}),
  });

const [ingestKey, otherIngestKey] = INGEST_KEYS as [string, string];
const [queryKey] = QUERY_KEYS as [string];

/** Every way of not presenting a right key, for a route whose right key is `key` (the other role's is `foreign`). */
const wrongCredentials = (key: string, foreign: string): [string, Record<string, string>][] => [
  ["no credentials", {}],
  ["an empty bearer", { authorization: "Bearer " }],
  ["a wrong bearer", { authorization: "Bearer not-a-key" }],
  ["a wrong X-API-Key", { "x-api-key": "not-a-key" }],
  ["the key as a prefix", { authorization: `Bearer ${key}x` }],
  ["a prefix of the key", { authorization: `Bearer ${key.slice(0, -1)}` }],
  ["the key in another case", { authorization: `Bearer ${key.toUpperCase()}` }],
  ["the key without the Bearer scheme", { authorization: key }],
  [
    "the key as the Basic user name",
    { authorization: `Basic ${Buffer.from(`${key}:x`).toString("base64")}` },
  ],
  ["the key as the ApiKey id", { authorization: `ApiKey ${Buffer.from(`${key}:x`).toString("base64")}` }],
  ["a wrong Splunk token", { authorization: "Splunk not-a-key" }],
  ["two keys joined by a comma", { "x-api-key": `${key},${foreign}` }],
  ["the other role's key", { authorization: `Bearer ${foreign}` }],
  ["a wrong X-API-Key beside a right bearer", { "x-api-key": "not-a-key", authorization: `Bearer ${key}` }],
  ["the key with a NUL appended", { "x-api-key": `${key}\u0000`.replace("\u0000", "%00") }],
];

/** Anything a test presents as a key: a refusal must not repeat any of it. */
const PRESENTED = [...INGEST_KEYS, ...QUERY_KEYS, "not-a-key"];

/** Shipper protocols answer a refusal in their own shape; everything else in the native one. */
const protocolOf = (path: string): "splunk" | "elasticsearch" | "otlp" | "loki" | "native" =>
  path.startsWith("/services/collector")
    ? "splunk"
    : path === "/v1/logs"
      ? "otlp"
      : path.startsWith("/loki/")
        ? "loki"
        : path.startsWith("/producer/") || path.startsWith("/gateway/")
          ? "native"
          : "elasticsearch";

/** A valid OTLP and Loki body of their own (their 401 is theirs too: checked by status and header here). */
const SHIPPER_BODIES: Record<string, string> = {
  "/v1/logs": JSON.stringify({
    resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: "x" } }] }] }],
  }),
  "/loki/api/v1/push": JSON.stringify({
    streams: [{ stream: { app: "a" }, values: [["1700000000000000000", "x"]] }],
  }),
};

const expect401 = async (res: Response, path = "/producer/"): Promise<void> => {
  const protocol = protocolOf(path);
  // HEC tells a missing token (401) from a wrong one (403), as Splunk does.
  expect(protocol === "splunk" ? [401, 403] : [401]).toContain(res.status);
  expect(res.headers.get("www-authenticate")).toContain("Bearer");
  const text = await res.text();
  if (text === "" || protocol === "otlp" || protocol === "loki") return; // HEAD has no body; see SHIPPER_BODIES
  const body = JSON.parse(text) as Record<string, unknown>;
  if (protocol === "splunk")
    expect(body).toMatchObject({ text: expect.any(String), code: expect.any(Number) });
  else if (protocol === "elasticsearch")
    expect(body).toMatchObject({ error: { type: "security_exception" }, status: 401 });
  else
    expect(body).toMatchObject({
      error: "unauthorized",
      message: expect.any(String),
      requestId: expect.any(String),
    });
  // A refusal never repeats what was presented (it may be someone's real key for another service).
  for (const secret of PRESENTED) expect(text).not.toContain(secret);
};

describe("producer routes with INGEST_API_KEYS", () => {
  let app: Hono;
  const publisher = new ScriptedPublisher();
  beforeAll(() => {
    publisher.mode = "ok";
    app = buildProducerApp(loadConfig(ENV), { publisher, metrics: testMetrics(), logger: silentLogger });
  });

  test("the app registers the ingest routes this test walks", () => {
    const data = routesOf(app).filter((r) => r.kind === "data");
    expect(data.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      expect.arrayContaining([
        "POST /producer/api/logs/batch",
        "POST /producer/api/logs/ingest",
        "POST /producer/api/logs/ingest/async",
        "POST /_bulk",
        "POST /:index/_bulk",
        "POST /services/collector",
        "POST /services/collector/event",
      ]),
    );
  });

  test("every data route refuses a missing or wrong key with 401, and nothing reaches the bus", async () => {
    for (const r of routesOf(app).filter((x) => x.kind === "data"))
      for (const [what, headers] of wrongCredentials(ingestKey, queryKey)) {
        const res = await request(app, r, headers);
        const refused = protocolOf(r.path) === "splunk" ? [401, 403] : [401];
        if (!refused.includes(res.status))
          throw new Error(`${r.method} ${r.path} with ${what}: ${res.status}`);
        await expect401(res, r.path);
      }
    expect(publisher.calls).toBe(0);
  });

  test("the key is checked before the body is read: a gzip bomb or broken JSON without a key is a 401", async () => {
    const bomb = Bun.gzipSync(new Uint8Array(32 * 1024 * 1024));
    for (const r of routesOf(app).filter((x) => x.kind === "data" && x.method === "POST")) {
      const res = await app.request(concrete(r.path), {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": "gzip" },
        body: bomb,
      });
      expect(res.status).toBe(401);
      expect((await request(app, r, {}, "{not json")).status).toBe(401);
    }
  });

  /** A body each route accepts: NDJSON for _bulk, an HEC event for the collector, a batch, or one event. */
  const validBody = (path: string): string =>
    SHIPPER_BODIES[path] ??
    (path.endsWith("/_bulk")
      ? `{"create":{"_index":"auth"}}\n${EVENT}\n`
      : path.startsWith("/services/collector")
        ? '{"event":"must never be published"}'
        : path.endsWith("/batch")
          ? `[${EVENT}]`
          : EVENT);

  test("each configured key is accepted in every shipper's form: Bearer, X-API-Key, Basic, ApiKey, Splunk", async () => {
    const forms: Record<string, string>[] = [
      { authorization: `Bearer ${ingestKey}` },
      { "x-api-key": otherIngestKey },
      { authorization: `Basic ${Buffer.from(`elastic:${ingestKey}`).toString("base64")}` },
      { authorization: `ApiKey ${ingestKey}` },
      { authorization: `ApiKey ${Buffer.from(`some-id:${otherIngestKey}`).toString("base64")}` },
      { authorization: `Splunk ${ingestKey}` },
    ];
    for (const r of routesOf(app).filter((x) => x.kind === "data"))
      for (const headers of forms) {
        const res = await request(app, r, headers, validBody(r.path));
        if (![200, 202, 204].includes(res.status))
          throw new Error(`${r.method} ${r.path} with ${JSON.stringify(headers)}: ${res.status}`);
      }
  });

  test("health stays open", async () => {
    const health = routesOf(app).filter((r) => r.kind === "health");
    expect(health.length).toBeGreaterThanOrEqual(2);
    for (const r of health) expect((await request(app, r, {})).status).toBe(200);
  });
});

describe("gateway routes with QUERY_API_KEYS", () => {
  let app: Hono;
  const store = createSqliteStore(":memory:");
  const cache = new MemoryCache();
  beforeAll(async () => {
    await cache.start();
    app = buildGatewayApp(loadConfig(ENV), {
      reader: store.reader,
      cache,
      metrics: testMetrics(),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await cache.stop();
    await store.reader.stop();
    await store.writer.stop();
  });

  test("the app registers the query routes this test walks", () => {
    const data = routesOf(app).filter((r) => r.kind === "data");
    expect(data.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      expect.arrayContaining([
        "GET /gateway/api/query/logs",
        "GET /gateway/api/query/logs/:id",
        "GET /gateway/api/query/search",
        "GET /gateway/api/query/stats",
        "GET /gateway/api/query/tail",
      ]),
    );
  });

  test("every data route refuses a missing or wrong key with 401", async () => {
    for (const r of routesOf(app).filter((x) => x.kind === "data"))
      for (const [what, headers] of wrongCredentials(queryKey, ingestKey)) {
        const res = await request(app, r, headers);
        if (res.status !== 401) throw new Error(`${r.method} ${r.path} with ${what}: ${res.status}`);
        await expect401(res);
      }
  });

  test("the key is checked before the parameters: an invalid query without a key is a 401, not a 400", async () => {
    for (const r of routesOf(app).filter((x) => x.kind === "data")) {
      const res = await app.request(`${concrete(r.path)}?size=0&startTime=nonsense&query=`);
      expect(res.status).toBe(401);
    }
  });

  test("each configured key is accepted", async () => {
    for (const r of routesOf(app).filter((x) => x.kind === "data" && !x.path.endsWith("/tail")))
      for (const key of QUERY_KEYS) {
        const path = r.path.endsWith("/search") ? `${r.path}?query=x` : concrete(r.path);
        const res = await app.request(path, { headers: { authorization: `Bearer ${key}` } });
        expect([200, 404]).toContain(res.status);
        await res.body?.cancel();
      }
  });

  test("health stays open, and the UI's static files need no key", async () => {
    const open = routesOf(app).filter((r) => r.kind === "health" || r.kind === "ui");
    expect(open.some((r) => r.kind === "health")).toBe(true);
    for (const r of open) {
      const res = await request(app, r, {});
      expect(res.status).not.toBe(401);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe("consumer routes", () => {
  test("the consumer serves only health and metrics: it has no data route to protect", () => {
    const app = createConsumerApp({
      health: async () => ({ ok: true, components: {} }),
      logger: silentLogger,
      metrics: testMetrics(),
      metricsExposure: { enabled: true },
    });
    const kinds = new Set(routesOf(app).map((r) => r.kind));
    expect([...kinds].sort()).toEqual(["health", "metrics"]);
  });
});
