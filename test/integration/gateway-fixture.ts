// A gateway over a real SQLite store for the HTTP tests: write events through the store's writer, query through app.request().

import type { Hono } from "hono";
import { uuidv7 } from "uuidv7";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { createSqliteStore, type SqliteStore } from "../../src/adapters/store/sqlite.ts";
import { type Config, loadConfig } from "../../src/config/load.ts";
import type { Level } from "../../src/domain/level.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, type Metrics, Registry } from "../../src/observability/metrics.ts";
import type { LogReader } from "../../src/ports/log-store.ts";
import type { QueryCache } from "../../src/ports/query-cache.ts";
import { buildGatewayApp, type GatewayOptions } from "../../src/roles/gateway.ts";

export const BASE = "/gateway/api/query";

export interface FixtureOptions extends GatewayOptions {
  env?: Record<string, string>;
  /** Defaults to a fresh MemoryCache. */
  cache?: (config: Config, metrics: Metrics) => QueryCache;
  /** Wraps the store's reader (to count or fail reads). */
  reader?: (reader: LogReader) => LogReader;
}

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
  body: any;
  headers: Headers;
}

export type EventSpec = Partial<LogEvent> & { level?: Level };

export const makeEvent = (spec: EventSpec = {}): LogEvent => ({
  id: spec.id ?? uuidv7(),
  level: spec.level ?? "INFO",
  message: spec.message ?? "a message",
  source: spec.source ?? "svc-a",
  timestamp: spec.timestamp ?? Date.now(),
  metadata: spec.metadata ?? null,
});

export const createGatewayFixture = async (opts: FixtureOptions = {}) => {
  const config = loadConfig({ ...opts.env });
  const store: SqliteStore = createSqliteStore(":memory:");
  const metrics = createMetrics(new Registry(), { defaults: false });
  const cache = opts.cache ? opts.cache(config, metrics) : new MemoryCache();
  await cache.start();
  const { cache: _c, env: _e, reader: wrap, ...gatewayOpts } = opts;
  const reader = wrap ? wrap(store.reader) : store.reader;
  const app: Hono = buildGatewayApp(config, { reader, cache, metrics, logger: silentLogger }, gatewayOpts);
  let offset = 0;

  /** Stores the events in one batch, in the order given (their arrival order). */
  const write = async (...specs: EventSpec[]): Promise<LogEvent[]> => {
    const events = specs.map(makeEvent);
    const sourced = events.map((event) => ({ event, partition: 0, offset: String(offset++) }));
    await store.writer.write({
      group: "g",
      topic: "t",
      events: sourced,
      nextOffsets: new Map([[0, String(offset)]]),
    });
    return events;
  };

  const get = async (path: string, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await app.request(path.startsWith("/") ? path : `${BASE}/${path}`, { headers });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON (metrics text): kept as text.
    }
    return { status: res.status, body, headers: res.headers };
  };

  /** The value of one counter series, 0 when it has not been touched. */
  const counter = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const metric = metrics.registry.getSingleMetric(name);
    if (!metric) return 0;
    const data = await metric.get();
    const match = data.values.find((v) =>
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
    );
    return match?.value ?? 0;
  };

  const close = async (): Promise<void> => {
    await cache.stop();
    await store.reader.stop();
    await store.writer.stop();
  };

  return { app, store, config, metrics, cache, write, get, counter, close };
};

export type GatewayFixture = Awaited<ReturnType<typeof createGatewayFixture>>;

/** Polls `check` until it returns true or `withinMs` passes; returns its last verdict. */
export const eventually = async (
  check: () => Promise<boolean>,
  withinMs = 2000,
  everyMs = 25,
): Promise<boolean> => {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await Bun.sleep(everyMs);
  }
};

/** A cache that passes every call to `inner` except those given in `over` (to count, slow or fail them). */
export const delegatingCache = (inner: QueryCache, over: Partial<QueryCache> = {}): QueryCache => ({
  start: () => inner.start(),
  stop: () => inner.stop(),
  health: () => inner.health(),
  get: (k) => inner.get(k),
  set: (k, v, ttl) => inner.set(k, v, ttl),
  peek: (k) => inner.peek(k),
  ...over,
});

export const qs = (params: Record<string, string | number | undefined>): string =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
