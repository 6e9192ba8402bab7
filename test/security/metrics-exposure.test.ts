// Metrics exposure is configurable: PROMETHEUS_ENABLED=false removes the metrics routes, METRICS_REQUIRE_KEY=true
// puts them behind the role's API keys. Checked on the apps and on a running process (the real wiring).

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import type { Hono } from "hono";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createConsumerApp } from "../../src/http/consumer-app.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { buildGatewayApp } from "../../src/roles/gateway.ts";
import { buildProducerApp } from "../../src/roles/producer.ts";
import { ScriptedPublisher, testMetrics } from "../helpers/bus-doubles.ts";
import {
  BUN,
  freePorts,
  type Ports,
  portEnv,
  ROOT,
  type Spawned,
  spawnLogproc,
  tempDir,
  waitFor,
} from "../helpers/proc.ts";

setDefaultTimeout(60_000);

const INGEST_KEY = "metrics-ingest-key-41f0";
const QUERY_KEY = "metrics-query-key-9ab3";
const KEYS = { INGEST_API_KEYS: INGEST_KEY, QUERY_API_KEYS: QUERY_KEY };

const PRODUCER_METRICS = ["/metrics", "/producer/actuator/prometheus"];
const GATEWAY_METRICS = ["/metrics", "/gateway/actuator/prometheus"];
const CONSUMER_METRICS = ["/metrics", "/actuator/prometheus"];

const producerApp = (env: Record<string, string>): Hono =>
  buildProducerApp(loadConfig(env), {
    publisher: new ScriptedPublisher(),
    metrics: testMetrics(),
    logger: silentLogger,
  });

const stores: ReturnType<typeof createSqliteStore>[] = [];
const gatewayApp = (env: Record<string, string>): Hono => {
  const store = createSqliteStore(":memory:");
  stores.push(store);
  return buildGatewayApp(loadConfig(env), {
    reader: store.reader,
    cache: new MemoryCache(),
    metrics: testMetrics(),
    logger: silentLogger,
  });
};
afterAll(async () => {
  for (const s of stores.splice(0)) {
    await s.reader.stop();
    await s.writer.stop();
  }
});

const hasRoute = (app: Hono, path: string): boolean =>
  app.routes.some((r) => r.path === path && r.method === "GET");

const get = (app: Hono, path: string, headers: Record<string, string> = {}) => app.request(path, { headers });

describe("PROMETHEUS_ENABLED=false", () => {
  test("the producer registers no metrics route and answers 404 there", async () => {
    const app = producerApp({ PROMETHEUS_ENABLED: "false", ...KEYS });
    for (const path of PRODUCER_METRICS) {
      expect(hasRoute(app, path)).toBe(false);
      const res = await get(app, path, { "x-api-key": INGEST_KEY });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: "not_found" });
    }
    expect((await get(app, "/producer/api/logs/health")).status).toBe(200);
  });

  test("the gateway registers no metrics route and answers 404 there", async () => {
    const app = gatewayApp({ PROMETHEUS_ENABLED: "false", ...KEYS });
    for (const path of GATEWAY_METRICS) {
      expect(hasRoute(app, path)).toBe(false);
      expect((await get(app, path, { "x-api-key": QUERY_KEY })).status).toBe(404);
    }
    expect((await get(app, "/gateway/api/query/health")).status).toBe(200);
  });

  test("the consumer's HTTP surface keeps only health", async () => {
    const app = createConsumerApp({
      health: async () => ({ ok: true, components: {} }),
      logger: silentLogger,
      metrics: testMetrics(),
      metricsExposure: { enabled: false },
    });
    for (const path of CONSUMER_METRICS) expect((await get(app, path)).status).toBe(404);
    expect((await get(app, "/actuator/health")).status).toBe(200);
  });
});

describe("METRICS_REQUIRE_KEY=true", () => {
  test("producer metrics take an ingest key (not a query key); health stays open", async () => {
    const app = producerApp({ METRICS_REQUIRE_KEY: "true", ...KEYS });
    for (const path of PRODUCER_METRICS) {
      expect((await get(app, path)).status).toBe(401);
      expect((await get(app, path, { "x-api-key": QUERY_KEY })).status).toBe(401);
      const ok = await get(app, path, { authorization: `Bearer ${INGEST_KEY}` });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("log_ingestion_total");
    }
    expect((await get(app, "/producer/api/logs/health")).status).toBe(200);
  });

  test("gateway metrics take a query key (not an ingest key); health stays open", async () => {
    const app = gatewayApp({ METRICS_REQUIRE_KEY: "true", ...KEYS });
    for (const path of GATEWAY_METRICS) {
      expect((await get(app, path)).status).toBe(401);
      expect((await get(app, path, { "x-api-key": INGEST_KEY })).status).toBe(401);
      const ok = await get(app, path, { "x-api-key": QUERY_KEY });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("cache_requests_total");
    }
    expect((await get(app, "/gateway/actuator/health")).status).toBe(200);
  });

  test("without it, metrics stay open even with keys configured", async () => {
    expect((await get(producerApp(KEYS), "/metrics")).status).toBe(200);
    expect((await get(gatewayApp(KEYS), "/metrics")).status).toBe(200);
  });
});

describe("a running logproc (embedded, every role in one process)", () => {
  const running: Spawned[] = [];
  const dirs: string[] = [];
  const start = async (env: Record<string, string>): Promise<Ports> => {
    const ports = freePorts();
    const dataDir = tempDir();
    dirs.push(dataDir);
    const s = spawnLogproc([], { ...portEnv(ports), DATA_DIR: dataDir, ...env }, [
      BUN,
      `${ROOT}/src/main.ts`,
    ]);
    running.push(s);
    await waitFor(`http://127.0.0.1:${ports.gateway}/gateway/api/query/health`);
    await waitFor(`http://127.0.0.1:${ports.producer}/producer/api/logs/health`);
    await waitFor(`http://127.0.0.1:${ports.consumer}/actuator/health`);
    return ports;
  };
  afterAll(async () => {
    for (const s of running.splice(0)) {
      s.proc.kill("SIGTERM");
      await s.proc.exited;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const at = (port: number, path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers });

  let off: Ports;
  let keyed: Ports;
  beforeAll(async () => {
    [off, keyed] = await Promise.all([
      start({ PROMETHEUS_ENABLED: "false" }),
      start({ METRICS_REQUIRE_KEY: "true", ...KEYS }),
    ]);
  });

  test("with PROMETHEUS_ENABLED=false no port serves metrics", async () => {
    for (const [port, paths] of [
      [off.producer, PRODUCER_METRICS],
      [off.gateway, GATEWAY_METRICS],
      [off.consumer, CONSUMER_METRICS],
    ] as const)
      for (const path of paths) expect((await at(port, path)).status).toBe(404);
  });

  test("with METRICS_REQUIRE_KEY=true the producer and gateway metrics need their keys", async () => {
    for (const [port, paths, key] of [
      [keyed.producer, PRODUCER_METRICS, INGEST_KEY],
      [keyed.gateway, GATEWAY_METRICS, QUERY_KEY],
    ] as const)
      for (const path of paths) {
        expect((await at(port, path)).status).toBe(401);
        expect((await at(port, path, { "x-api-key": key })).status).toBe(200);
      }
  });

  test("with METRICS_REQUIRE_KEY=true the consumer's metrics need a key too (either role's)", async () => {
    for (const path of CONSUMER_METRICS) {
      expect((await at(keyed.consumer, path)).status).toBe(401);
      expect((await at(keyed.consumer, path, { "x-api-key": "wrong" })).status).toBe(401);
      expect((await at(keyed.consumer, path, { "x-api-key": INGEST_KEY })).status).toBe(200);
      expect((await at(keyed.consumer, path, { "x-api-key": QUERY_KEY })).status).toBe(200);
    }
  });
});
