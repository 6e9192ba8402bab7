// The shipper routes in process: same guards, limits and durability as the native API, errors in their shapes.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { ScriptedPublisher } from "../helpers/bus-doubles.ts";
import { scriptedProducer } from "../helpers/scripted-producer.ts";

const KEY = "route-key-1";
const auth = { authorization: `Bearer ${KEY}` };

const build = (env: Record<string, string> = {}, mode: ScriptedPublisher["mode"] = "ok") => {
  const { app, publisher, metrics } = scriptedProducer({ INGEST_API_KEYS: KEY, ...env }, mode);
  const bulk = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    app.request("/logs/_bulk", { method: "POST", headers: { ...auth, ...headers }, body });
  const hec = (body: string) =>
    app.request("/services/collector/event", {
      method: "POST",
      headers: { authorization: `Splunk ${KEY}` },
      body,
    });
  return { app, publisher, metrics, bulk, hec };
};

const pair = (doc: unknown) => `{"create":{}}\n${JSON.stringify(doc)}\n`;

describe("durability: success only once the bus holds the events", () => {
  test("a bus that refuses makes _bulk a 503 in Elasticsearch's shape and HEC a 503 'Server is busy'", async () => {
    const { bulk, hec, publisher } = build({}, "fail");
    const es = await bulk(pair({ message: "m" }));
    expect(es.status).toBe(503);
    expect(es.headers.get("retry-after")).not.toBeNull();
    expect(await es.json()).toMatchObject({ error: { type: "unavailable_shards_exception" }, status: 503 });
    const h = await hec('{"event":"m"}');
    expect([h.status, await h.json()]).toEqual([503, { text: "Server is busy", code: 9 }]);
    expect(publisher.calls).toBe(2);
  });

  test("the answer waits for the publish", async () => {
    const { bulk, publisher } = build();
    publisher.hold();
    let answered = false;
    const pending = Promise.resolve(bulk(pair({ message: "m" }))).then((r) => {
      answered = true;
      return r;
    });
    await Bun.sleep(50);
    expect(answered).toBe(false);
    publisher.release();
    expect((await pending).status).toBe(200);
  });
});

describe("limits", () => {
  test("metadata over the size or depth limit refuses that item with a 400, the others are created", async () => {
    const { bulk, metrics } = build({ MAX_METADATA_BYTES: "200" });
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i++) deep = { deep };
    const res = await bulk(
      pair({ message: "big", blob: "x".repeat(500) }) +
        pair({ message: "deep", deep }) +
        pair({ message: "ok" }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      errors: boolean;
      items: { create: { status: number; error?: { reason: string } } }[];
    };
    expect(body.errors).toBe(true);
    expect(body.items.map((i) => i.create.status)).toEqual([400, 400, 201]);
    expect(body.items[0]?.create.error?.reason).toContain("metadata");
    const accepted = await metrics.ingestionTotal.get();
    expect(accepted.values.find((v) => v.labels.status === "accepted")?.value).toBe(1);
    expect(accepted.values.find((v) => v.labels.status === "rejected")?.value).toBe(2);
  });

  test("more documents than MAX_BATCH_EVENTS, or a gzip bomb, is a 413 in Elasticsearch's shape", async () => {
    const { bulk } = build({ MAX_BATCH_EVENTS: "2", MAX_BODY_BYTES: "4096" });
    const many = await bulk(pair({ message: "1" }) + pair({ message: "2" }) + pair({ message: "3" }));
    expect(many.status).toBe(413);
    expect(await many.json()).toMatchObject({ status: 413, error: { type: "content_too_long_exception" } });
    const bomb = await bulk(Bun.gzipSync(new Uint8Array(1 << 20)), { "content-encoding": "gzip" });
    expect(bomb.status).toBe(413);
  });

  test("the rate limit answers 429 in each protocol's shape", async () => {
    const { bulk, hec } = build({ RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "1" });
    expect((await bulk(pair({ message: "m" }))).status).toBe(200);
    const es = await bulk(pair({ message: "m" }));
    expect([es.status, ((await es.json()) as { error: { type: string } }).error.type]).toEqual([
      429,
      "es_rejected_execution_exception",
    ]);
    const h = await hec('{"event":"x"}');
    expect([h.status, await h.json()]).toEqual([429, { text: "Server is busy", code: 9 }]);
  });

  test("latency is recorded under the protocol's endpoint label", async () => {
    const { bulk, hec, metrics } = build();
    await bulk(pair({ message: "m" }));
    await hec('{"event":"m"}');
    const text = await metrics.registry.metrics();
    expect(text).toContain('log_ingestion_duration_seconds_count{endpoint="es_bulk"} 1');
    expect(text).toContain('log_ingestion_duration_seconds_count{endpoint="splunk_hec"} 1');
  });
});

describe("hostile bodies", () => {
  test("whatever the body, _bulk and HEC answer below 500 in their own shape", async () => {
    const { bulk, hec } = build();
    const line = fc.oneof(
      fc.string(),
      fc.json(),
      fc.constantFrom('{"create":{}}', '{"index":{"_index":"x"}}', '{"delete":{}}', '{"event":', "{"),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 8 }), async (lines) => {
        const text = lines.join("\n");
        const es = await bulk(text);
        expect(es.status).toBeLessThan(500);
        const esBody = (await es.json()) as Record<string, unknown>;
        expect("items" in esBody || "error" in esBody).toBe(true);
        const h = await hec(text);
        expect(h.status).toBeLessThan(500);
        expect(((await h.json()) as { code: unknown }).code).toEqual(expect.any(Number));
      }),
      { numRuns: 300 },
    );
  });
});
