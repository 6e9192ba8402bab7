// The producer's HTTP API refusing: 400/401/413/415/429, and 503 when the bus is down or the circuit is open.

import { afterEach, describe, expect, test } from "bun:test";
import { MemoryBus } from "../../src/adapters/bus/memory.ts";
import { downPublisher } from "../helpers/bus-doubles.ts";
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

describe("refusals", () => {
  test.each([
    ["level", { ...validEvent, level: "LOUD" }],
    ["message", { ...validEvent, message: "" }],
    ["message", { ...validEvent, message: "x".repeat(32 * 1024 + 1) }],
    ["message", { ...validEvent, message: "nul\u0000" }],
    ["message", { ...validEvent, message: "lone \ud800" }],
    ["source", { ...validEvent, source: "s".repeat(101) }],
    ["timestamp", { ...validEvent, timestamp: "tomorrow" }],
    ["id", { ...validEvent, id: "i".repeat(65) }],
    ["metadata", { ...validEvent, metadata: [1] }],
    ["metadata", { ...validEvent, metadata: { k: "x".repeat(17 * 1024) } }],
    ["body", [validEvent]],
  ])("400 naming %s", async (field, event) => {
    const res = await (await producerHarness(cleanups)).ingest(event);
    expect(res.status).toBe(400);
    const body = await replyOf(res);
    expect(body).toMatchObject({ error: "validation_failed", message: expect.any(String) });
    expect(body.details).toContainEqual({ field, message: expect.any(String) });
  });

  test("malformed JSON and an empty body are 400", async () => {
    const { post } = await producerHarness(cleanups);
    for (const text of ['{"level":', ""])
      expect(await replyOf(await post("/ingest", text))).toMatchObject({
        error: "malformed_json",
        details: [{ field: "body", message: expect.any(String) }],
      });
  });

  const deeplyNested = (depth: number) =>
    `{"level":"info","message":"m","source":"s","metadata":${'{"a":'.repeat(depth)}1${"}".repeat(depth + 1)}`;

  test("metadata nested far past the limit is a 400 naming it, not a stack overflow", async () => {
    // A body this large is refused unread by default (MAX_EVENT_BYTES); raised here so that it is parsed.
    const { post } = await producerHarness(cleanups, { MAX_EVENT_BYTES: String(2 * 1024 * 1024) });
    const res = await post("/ingest", deeplyNested(200_000));
    expect(res.status).toBe(400);
    expect((await replyOf(res)).details).toEqual([{ field: "metadata", message: expect.any(String) }]);
  });

  test("a single event over MAX_EVENT_BYTES is 413 naming the limit, before it is parsed", async () => {
    const { post } = await producerHarness(cleanups);
    const res = await post("/ingest", deeplyNested(200_000));
    expect(res.status).toBe(413);
    expect((await replyOf(res)).message).toBe("an event exceeds 262144 bytes (MAX_EVENT_BYTES)");
  });

  test("a body over the 10 MiB default is 413; another content type is 415", async () => {
    const { post } = await producerHarness(cleanups);
    expect((await post("/batch", "x".repeat(10 * 1024 * 1024 + 1))).status).toBe(413);
    expect((await post("/ingest", JSON.stringify(validEvent), { "content-type": "text/plain" })).status).toBe(
      415,
    );
    expect(
      (await post("/ingest", JSON.stringify(validEvent), { "content-type": "application/x-ndjson" })).status,
    ).toBe(415);
  });

  test("with INGEST_API_KEYS a key is required (Bearer or X-API-Key); health stays open", async () => {
    const { post, health } = await producerHarness(cleanups, { INGEST_API_KEYS: "k1,k2" });
    const body = JSON.stringify(validEvent);
    expect((await post("/ingest", body)).status).toBe(401);
    expect((await post("/ingest", body, { ...JSON_TYPE, authorization: "Bearer nope" })).status).toBe(401);
    expect((await post("/ingest", body, { ...JSON_TYPE, authorization: "Bearer k1" })).status).toBe(200);
    expect((await post("/batch", `[${body}]`, { ...JSON_TYPE, "x-api-key": "k2" })).status).toBe(200);
    expect((await health()).status).toBe(200);
  });

  test("past the rate limit: 429 with Retry-After, and the breaker never counts it", async () => {
    const { ingest, scrape } = await producerHarness(cleanups, {
      RATE_LIMIT_RPS: "1",
      RATE_LIMIT_BURST: "2",
    });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res = await ingest(validEvent);
      statuses.push(res.status);
      retryAfter ??= res.headers.get("retry-after");
    }
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429, 429, 429, 429, 429]);
    expect(retryAfter).toBe("1");
    const text = await scrape();
    expect(text).toContain('rate_limited_total{scope="client"} 8');
    expect(text).toContain('circuit_breaker_state{name="bus"} 0');
  });
});

describe("when the bus is down", () => {
  test("a bus that never confirms gets 503 with Retry-After at the send timeout", async () => {
    const silent = new MemoryBus(); // nothing consumes it: publish() never confirms
    cleanups.push(() => silent.stop());
    const res = await (await producerHarness(cleanups, {}, { publisher: silent })).ingest(validEvent);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
  }, 10_000);

  test("repeated failures open the circuit: 503 at once with Retry-After, the bus left alone", async () => {
    const down = downPublisher();
    const { ingest, post, scrape } = await producerHarness(cleanups, {}, { publisher: down });
    for (let i = 0; i < 5; i++) expect((await ingest(validEvent)).status).toBe(503);
    expect(down.calls).toBe(5);
    const fast = await ingest(validEvent);
    expect(fast.status).toBe(503);
    expect(Number(fast.headers.get("retry-after"))).toBeGreaterThanOrEqual(4);
    expect((await post("/ingest/async", JSON.stringify(validEvent))).status).toBe(503);
    expect(down.calls).toBe(5);
    const text = await scrape();
    expect(text).toContain('circuit_breaker_state{name="bus"} 2');
    // The async refusal never reaches the guard's publish: it shows as a failed ingestion only.
    expect(text).toContain('kafka_messages_sent_total{result="rejected_open"} 1');
    expect(text).toContain('log_ingestion_total{status="failed"} 7');
  });

  test("health is 503 unhealthy with the reason", async () => {
    const res = await (await producerHarness(cleanups, {}, { publisher: downPublisher() })).health();
    expect(res.status).toBe(503);
    expect(await replyOf(res)).toMatchObject({
      status: "unhealthy",
      service: "log-producer",
      reason: expect.stringContaining("ECONNREFUSED"),
    });
  });
});
