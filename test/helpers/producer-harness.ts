// The producer app as the embedded mode wires it: guarded MemoryBus → persister → SQLite (":memory:").

import { MemoryBus } from "../../src/adapters/bus/memory.ts";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import { loadConfig } from "../../src/config/load.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { buildProducerApp, type ProducerParts } from "../../src/roles/producer.ts";
import { createPersister } from "../../src/services/persist.ts";

export const API = "/producer/api/logs";
export const JSON_TYPE = { "content-type": "application/json" };
export const validEvent = { level: "info", message: "user logged in", source: "auth" };

export type Cleanup = () => Promise<void>;
export type RequestBody = NonNullable<NonNullable<ConstructorParameters<typeof Request>[1]>["body"]>;

/** Every field any producer reply carries; a test reads the ones its endpoint sends. */
export interface Reply {
  status?: string;
  service?: string;
  timestamp?: string;
  reason?: string;
  logId?: string;
  message?: string;
  error?: string;
  details?: { field: string; message: string }[];
  totalEvents?: number;
  successCount?: number;
  failureCount?: number;
  errors?: { index: number; field: string; message: string }[];
}
export const replyOf = async (res: Response): Promise<Reply> => (await res.json()) as Reply;

/** Builds the app from env variables; pushes its cleanup onto `cleanups` for the test's afterEach. */
export const producerHarness = async (
  cleanups: Cleanup[],
  env: Record<string, string> = {},
  parts: Partial<ProducerParts> = {},
) => {
  const bus = new MemoryBus({ retryDelayMs: 10 });
  const store = createSqliteStore(":memory:");
  await bus.run(createPersister({ writer: store.writer, subscriber: bus, group: "producer-test" }));
  cleanups.push(async () => {
    await bus.stop();
    await store.writer.stop();
    await store.reader.stop();
  });
  const metrics = createMetrics(new Registry());
  const app = buildProducerApp(loadConfig(env), { publisher: bus, metrics, logger: silentLogger, ...parts });
  const post = (path: string, body: RequestBody, headers: Record<string, string> = JSON_TYPE) =>
    app.request(`${API}${path}`, { method: "POST", body, headers });
  return {
    app,
    store,
    post,
    ingest: (event: unknown) => post("/ingest", JSON.stringify(event)),
    health: () => app.request(`${API}/health`),
    scrape: async () => (await app.request("/metrics")).text(),
  };
};

export const runCleanups = async (cleanups: Cleanup[]): Promise<void> => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
};
