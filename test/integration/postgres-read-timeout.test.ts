// A PostgreSQL read past QUERY_TIMEOUT_MS is cancelled by the read pool and answered 503 with Retry-After,
// never 500 or a hang: a real slow read (waiting on a lock another session holds) against a tiny timeout.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { loadConfig } from "../../src/config/load.ts";
import { encodeCursor } from "../../src/domain/cursor.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { buildGatewayApp } from "../../src/roles/gateway.ts";
import { TEST_POSTGRES_URL, testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { BASE, makeEvent } from "./gateway-fixture.ts";

setDefaultTimeout(60_000);

describe("statement timeout on the read pool", () => {
  const schema = uniqueName("qt");
  const store = createPostgresStore({ ...testPostgresConfig(), queryTimeoutMs: 300 }, { schema });
  const locker = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  const app = buildGatewayApp(loadConfig({}), {
    reader: store.reader,
    cache: new MemoryCache(),
    metrics: createMetrics(new Registry(), { defaults: false }),
    logger: silentLogger,
  });

  beforeAll(async () => {
    await store.writer.start();
    await store.reader.start();
    const events = [makeEvent({ id: "qt-1" }), makeEvent({ id: "qt-2" })];
    await store.writer.write({
      group: "g",
      topic: "t",
      events: events.map((event, i) => ({ event, partition: 0, offset: String(i) })),
      nextOffsets: new Map([[0, "2"]]),
    });
  });
  afterAll(async () => {
    await locker.end({ timeout: 5 });
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  /** Runs `during` while another session holds an exclusive lock on the events: every read of them waits. */
  const whileLocked = async (during: () => Promise<void>): Promise<void> => {
    let unlock = () => {};
    const released = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    let locked = () => {};
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const tx = locker.begin(async (sql) => {
      await sql.unsafe(`lock table "${schema}".log_events in access exclusive mode`);
      locked();
      await released;
    });
    await holding;
    try {
      await during();
    } finally {
      unlock();
      await tx;
    }
  };

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await app.request(`${BASE}/${path}`, { headers });
    const body = (await res.json()) as { error: string; message: string };
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
  };

  test("a read that runs past QUERY_TIMEOUT_MS is answered 503 JSON with Retry-After", async () => {
    await whileLocked(async () => {
      const resume = { "Last-Event-ID": encodeCursor({ ts: 0, id: "x", seq: 0 }) };
      for (const [path, headers] of [
        ["logs?size=5", {}],
        ["search?query=anything", {}],
        ["logs/qt-1", {}],
        ["tail", resume],
      ] as const) {
        const answer = await get(path, headers);
        expect({ path, status: answer.status }).toEqual({ path, status: 503 });
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(answer.body).toMatchObject({ error: "query_timeout", requestId: expect.any(String) });
        expect(answer.body.message).toContain("QUERY_TIMEOUT_MS");
      }
    });
    // The lock gone, the same reads answer again.
    expect((await get("logs?size=5")).status).toBe(200);
    expect((await get("logs/qt-1")).status).toBe(200);
  });
});
