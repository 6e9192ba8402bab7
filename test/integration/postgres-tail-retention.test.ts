// A live tail resumed from before PostgreSQL's retained data starts at the oldest retained row, after real
// retention (daily partitions dropped); one resumed from past the watermark starts at the watermark.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Server } from "bun";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { loadConfig } from "../../src/config/load.ts";
import { encodeCursor } from "../../src/domain/cursor.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { buildGatewayApp } from "../../src/roles/gateway.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { openSse } from "../helpers/sse.ts";
import { eventually, makeEvent } from "./gateway-fixture.ts";

setDefaultTimeout(120_000);

const DAY = 86_400_000;
const schema = uniqueName("tr");
const store = createPostgresStore(testPostgresConfig(), { schema });
let server: Server<undefined>;
let offset = 0;

const write = async (events: LogEvent[]): Promise<void> => {
  await store.writer.write({
    group: "g",
    topic: "t",
    events: events.map((event) => ({ event, partition: 0, offset: String(offset++) })),
    nextOffsets: new Map(),
  });
};

beforeAll(async () => {
  await store.writer.start();
  await store.reader.start();
  const app = buildGatewayApp(
    loadConfig({}),
    {
      reader: store.reader,
      cache: new MemoryCache(),
      metrics: createMetrics(new Registry(), { defaults: false }),
      logger: silentLogger,
    },
    { tailPollMs: 20, tailPauseMs: 5 },
  );
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 60,
    fetch: (req, srv) => app.fetch(req, { server: srv }),
  });
});
afterAll(async () => {
  await server.stop(true);
  await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
  await store.writer.stop();
  await store.reader.stop();
});

const openTail = async (lastEventId: string) => {
  const sse = await openSse(`http://127.0.0.1:${server.port}/gateway/api/query/tail`, {
    "Last-Event-ID": lastEventId,
  });
  expect(sse.res.status).toBe(200);
  expect(await eventually(async () => sse.received.some((e) => e.event === "ready"), 5000)).toBe(true);
  const after = JSON.parse(sse.received[0]?.data ?? "{}").after as number;
  const ids = () => sse.messages().map((e) => JSON.parse(e.data).id as string);
  return { ...sse, after, ids };
};

describe("tail resumes against retention", () => {
  test("a Last-Event-ID older than the retained data starts at the oldest retained row", async () => {
    await write(
      Array.from({ length: 40 }, (_, i) => makeEvent({ id: `old-${i}`, timestamp: Date.now() - 10 * DAY })),
    );
    const kept = Array.from({ length: 6 }, (_, i) => makeEvent({ id: `kept-${i}` }));
    await write(kept);
    expect((await store.writer.dropPartitionsOlderThan(3)).length).toBeGreaterThan(0);
    const [first] = await store.sql.unsafe<{ seq: string }[]>(
      `select min(seq) as seq from "${schema}".log_events`,
    );
    const oldest = Number(first?.seq);
    const tail = await openTail(encodeCursor({ ts: 0, id: "forged", seq: 0 }));
    try {
      expect(tail.after).toBe(oldest - 1);
      expect(await eventually(async () => tail.messages().length >= kept.length, 5000)).toBe(true);
      await Bun.sleep(100);
      expect(tail.ids()).toEqual(kept.map((e) => e.id));
    } finally {
      await tail.close();
    }
  });

  test("a Last-Event-ID past the watermark starts at the watermark", async () => {
    const w = await store.reader.watermark();
    const tail = await openTail(encodeCursor({ ts: Date.now(), id: "forged", seq: w + 1_000_000_000 }));
    try {
      expect(tail.after).toBe(w);
      await write([makeEvent({ id: "next-1" })]);
      expect(await eventually(async () => tail.messages().length >= 1, 5000)).toBe(true);
      expect(tail.ids()).toEqual(["next-1"]);
    } finally {
      await tail.close();
    }
  });
});
