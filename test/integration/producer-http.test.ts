// The producer's HTTP API accepting events, end to end in process: app.request() → guarded MemoryBus → SQLite.

import { afterEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import {
  type Cleanup,
  JSON_TYPE,
  producerHarness,
  replyOf,
  runCleanups,
  validEvent,
} from "../helpers/producer-harness.ts";

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

describe("accepting events", () => {
  test("POST /ingest answers 200 once the event is stored, and it reads back byte-identical", async () => {
    const { ingest, store } = await producerHarness(cleanups);
    const message = "naïve café ✓ 😀\nline two\u2028\u0001";
    const res = await ingest({
      ...validEvent,
      message,
      metadata: { user: { id: 7 }, tags: ["a"] },
      extra: "ignored",
    });
    expect(res.status).toBe(200);
    const body = await replyOf(res);
    expect(body).toEqual({ status: "accepted", logId: expect.any(String), message: expect.any(String) });
    const stored = await store.reader.findById(body.logId ?? "");
    expect(stored).toMatchObject({
      level: "INFO",
      message,
      source: "auth",
      metadata: { user: { id: 7 }, tags: ["a"] },
    });
  });

  test("a client id and timestamp are kept", async () => {
    const { ingest, store } = await producerHarness(cleanups);
    const res = await ingest({ ...validEvent, id: "client-1", timestamp: "2024-05-06T07:08:09" });
    expect((await replyOf(res)).logId).toBe("client-1");
    expect((await store.reader.findById("client-1"))?.timestamp).toBe(Date.UTC(2024, 4, 6, 7, 8, 9));
  });

  test("POST /ingest/async answers 202 at once and the event arrives", async () => {
    const { post, store } = await producerHarness(cleanups);
    const res = await post("/ingest/async", JSON.stringify(validEvent));
    expect(res.status).toBe(202);
    const { logId, status } = await replyOf(res);
    expect(status).toBe("accepted");
    while (!(await store.reader.findById(logId ?? ""))) await Bun.sleep(5);
  });

  test("a gzip body is accepted", async () => {
    const { post } = await producerHarness(cleanups);
    const res = await post("/ingest", gzipSync(JSON.stringify(validEvent)), {
      ...JSON_TYPE,
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(200);
  });
});

describe("batches", () => {
  test("valid items are stored even when others fail, each failure named by index and field", async () => {
    const { post, store } = await producerHarness(cleanups);
    const items = [
      validEvent,
      { ...validEvent, level: "LOUD" },
      { ...validEvent, id: "b-2" },
      "text",
      { level: "warn", source: "s" },
    ];
    const res = await post("/batch", JSON.stringify(items));
    expect(res.status).toBe(200);
    const body = await replyOf(res);
    expect(body).toMatchObject({ status: "completed", totalEvents: 5, successCount: 2, failureCount: 3 });
    expect(body.errors?.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([
      [1, "level"],
      [3, "body"],
      [4, "message"],
    ]);
    expect(await store.reader.findById("b-2")).toBeDefined();
  });

  test("NDJSON is one event per line; a malformed line is one failed item", async () => {
    const { post } = await producerHarness(cleanups);
    const lines = [
      JSON.stringify(validEvent),
      "{not json",
      "",
      JSON.stringify({ ...validEvent, level: "debug" }),
    ].join("\n");
    const res = await post("/batch", lines, { "content-type": "application/x-ndjson" });
    const body = await replyOf(res);
    expect(body).toMatchObject({ totalEvents: 3, successCount: 2, failureCount: 1 });
    expect(body.errors).toEqual([{ index: 1, field: "body", message: expect.stringContaining("line 2") }]);
  });

  test("a gzip NDJSON batch is accepted; a gzip bomb is 413", async () => {
    const { post } = await producerHarness(cleanups);
    const gz = { "content-type": "application/x-ndjson", "content-encoding": "gzip" };
    const ok = await post(
      "/batch",
      gzipSync(`${JSON.stringify(validEvent)}\n${JSON.stringify(validEvent)}`),
      gz,
    );
    expect((await replyOf(ok)).successCount).toBe(2);
    const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024), { level: 9 });
    expect((await post("/batch", bomb, gz)).status).toBe(413);
  });

  test("a batch over MAX_BATCH_EVENTS is 413; one that is not an array is 400", async () => {
    const { post } = await producerHarness(cleanups, { MAX_BATCH_EVENTS: "3" });
    expect(
      (await post("/batch", JSON.stringify([validEvent, validEvent, validEvent, validEvent]))).status,
    ).toBe(413);
    expect((await post("/batch", JSON.stringify(validEvent))).status).toBe(400);
  });
});

describe("observability", () => {
  test("health answers healthy with a timestamp", async () => {
    const res = await (await producerHarness(cleanups)).health();
    expect(await replyOf(res)).toEqual({
      status: "healthy",
      service: "log-producer",
      timestamp: expect.any(String),
    });
  });

  test("metrics are served on both paths with the producer's series", async () => {
    const { ingest, app, scrape } = await producerHarness(cleanups);
    await ingest(validEvent);
    await ingest({ level: "x" });
    const text = await scrape();
    expect(await (await app.request("/producer/actuator/prometheus")).text()).toContain(
      "log_ingestion_total",
    );
    for (const series of [
      'log_ingestion_total{status="accepted"} 1',
      'log_ingestion_total{status="rejected"} 1',
      "log_ingestion_duration_seconds_bucket",
      'kafka_messages_sent_total{result="ok"} 1',
      "kafka_send_duration_seconds_count 1",
      'circuit_breaker_state{name="bus"} 0',
      "rate_limited_total",
      "process_cpu_user_seconds_total",
    ])
      expect(text).toContain(series);
  });
});
