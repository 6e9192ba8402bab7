// Every route the producer and gateway apps register is documented in the manual (paths as the docs write
// them: `:id` as `{id}`), read from the apps themselves so a route added without documentation fails here.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Hono } from "hono";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import { loadConfig } from "../../src/config/load.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { buildGatewayApp } from "../../src/roles/gateway.ts";
import { buildProducerApp } from "../../src/roles/producer.ts";
import { ScriptedPublisher, testMetrics } from "../helpers/bus-doubles.ts";
import { readDocs } from "./roles.ts";

const store = createSqliteStore(":memory:");
const cache = new MemoryCache();
let docs = "";
let apps: Hono[] = [];

beforeAll(async () => {
  docs = await readDocs();
  await cache.start();
  const config = loadConfig({});
  apps = [
    buildProducerApp(config, {
      publisher: new ScriptedPublisher(),
      metrics: testMetrics(),
      logger: silentLogger,
    }),
    buildGatewayApp(config, { reader: store.reader, cache, metrics: testMetrics(), logger: silentLogger }),
  ];
});

afterAll(async () => {
  await cache.stop();
  await store.reader.stop();
  await store.writer.stop();
});

/** A route's path as the manual writes it; UI assets and catch-alls are not API routes. */
const documented = (path: string): string | undefined => {
  if (path === "*" || path.endsWith("/*") || path.startsWith("/gateway/ui/")) return undefined;
  return path.replace(/:([A-Za-z_]+)(\{[^}]*\})?/g, "{$1}");
};

test("the manual names every route the producer and gateway register", () => {
  const paths = new Set(
    apps.flatMap((app) => app.routes.map((r) => documented(r.path)).filter((p): p is string => !!p)),
  );
  expect(paths.size).toBeGreaterThan(8);
  expect([...paths].filter((p) => !docs.includes(p)).sort()).toEqual([]);
});
