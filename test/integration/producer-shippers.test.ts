// OTLP and Loki push through the producer app in process (app.request → guarded MemoryBus → SQLite): answers in
// each protocol's own shape, events stored, and no body whatever yields a 5xx.

import { afterEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { Reader } from "protobufjs/minimal.js";
import { compress } from "snappyjs";
import { type Cleanup, producerHarness, runCleanups } from "../helpers/producer-harness.ts";
import { encodeLokiPush, encodeOtlpLogs } from "../helpers/shipper-encode.ts";

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const PROTO = { "content-type": "application/x-protobuf" };
const JSON_TYPE = { "content-type": "application/json" };

const harness = async (env: Record<string, string> = {}) => {
  const h = await producerHarness(cleanups, env);
  const post = (path: string, body: Uint8Array | string, headers: Record<string, string>) =>
    h.app.request(path, { method: "POST", body, headers });
  const stored = async () => h.store.reader.tail({ afterSeq: 0, levels: [], sources: [], limit: 1000 });
  return { ...h, post, stored };
};

/** google.rpc.Status from protobuf: code (1) and message (2). */
const decodeStatus = (bytes: Uint8Array): { code: number; message: string } => {
  const r = Reader.create(bytes);
  const out = { code: 0, message: "" };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) out.code = r.int32();
    else if (tag >>> 3 === 2) out.message = r.string();
    else r.skipType(tag & 7);
  }
  return out;
};

const otlpBody = (messages: string[], service = "svc") =>
  encodeOtlpLogs([
    {
      attributes: [["service.name", { string: service }]],
      scopes: [{ records: messages.map((m) => ({ severityNumber: 17, body: { string: m } })) }],
    },
  ]);

describe("OTLP/HTTP POST /v1/logs", () => {
  test("protobuf: 200 with an empty ExportLogsServiceResponse once stored", async () => {
    const h = await harness();
    const res = await h.post("/v1/logs", otlpBody(["a", "b"]), PROTO);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-protobuf");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
    const events = await h.stored();
    expect(events.map((e) => [e.message, e.level, e.source])).toEqual([
      ["a", "ERROR", "svc"],
      ["b", "ERROR", "svc"],
    ]);
  });

  test("JSON, gzip: 200 {} once stored", async () => {
    const h = await harness();
    const body = {
      resourceLogs: [
        { scopeLogs: [{ logRecords: [{ severityText: "WARN", body: { stringValue: "hi" } }] }] },
      ],
    };
    const res = await h.post("/v1/logs", gzipSync(JSON.stringify(body)), {
      ...JSON_TYPE,
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect((await h.stored()).map((e) => [e.message, e.level, e.source])).toEqual([
      ["hi", "WARN", "unknown_service"],
    ]);
  });

  test("refused records are reported in partialSuccess, in the request's encoding; the others stored", async () => {
    const h = await harness({ MAX_MESSAGE_BYTES: "10" });
    const json = {
      resourceLogs: [
        {
          scopeLogs: [
            { logRecords: [{ body: { stringValue: "ok" } }, { body: { stringValue: "x".repeat(11) } }] },
          ],
        },
      ],
    };
    const res = await h.post("/v1/logs", JSON.stringify(json), JSON_TYPE);
    expect(res.status).toBe(200);
    const reply = (await res.json()) as {
      partialSuccess: { rejectedLogRecords: string; errorMessage: string };
    };
    expect(reply.partialSuccess.rejectedLogRecords).toBe("1");
    expect(reply.partialSuccess.errorMessage).toContain("record 1: message");

    const proto = await h.post("/v1/logs", otlpBody(["fine", "y".repeat(11)]), PROTO);
    expect(proto.status).toBe(200);
    const r = Reader.create(new Uint8Array(await proto.arrayBuffer()));
    expect(r.uint32()).toBe((1 << 3) | 2);
    r.uint32();
    expect(r.uint32()).toBe(1 << 3);
    expect(Number(r.int64())).toBe(1);
    expect((await h.stored()).map((e) => e.message)).toEqual(["ok", "fine"]);
  });

  test("an undecodable body is a 400 google.rpc.Status in the request's encoding", async () => {
    const h = await harness();
    const proto = await h.post("/v1/logs", Uint8Array.from([0x0a, 0xff, 0x01]), PROTO);
    expect(proto.status).toBe(400);
    const status = decodeStatus(new Uint8Array(await proto.arrayBuffer()));
    expect(status.code).toBe(3);
    expect(status.message).toContain("not a valid OTLP ExportLogsServiceRequest");

    const json = await h.post("/v1/logs", "{not json", JSON_TYPE);
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ code: 3, message: expect.stringContaining("not valid JSON") });
    expect(await h.stored()).toEqual([]);
  });

  test("a wrong key is a 401 Status; a Bearer or X-API-Key key is accepted", async () => {
    const h = await harness({ INGEST_API_KEYS: "k1" });
    const denied = await h.post("/v1/logs", otlpBody(["a"]), { ...PROTO, authorization: "Bearer nope" });
    expect(denied.status).toBe(401);
    expect(denied.headers.get("www-authenticate")).toContain("Bearer");
    expect(decodeStatus(new Uint8Array(await denied.arrayBuffer())).code).toBe(16);
    expect((await h.post("/v1/logs", otlpBody(["a"]), { ...PROTO, authorization: "Bearer k1" })).status).toBe(
      200,
    );
    expect((await h.post("/v1/logs", otlpBody(["b"]), { ...PROTO, "x-api-key": "k1" })).status).toBe(200);
  });

  test("other media types are a 415; a gzip bomb stops at MAX_BODY_BYTES with a 413", async () => {
    const h = await harness({ MAX_BODY_BYTES: "65536" });
    expect((await h.post("/v1/logs", "x", { "content-type": "text/plain" })).status).toBe(415);
    const bomb = gzipSync(new Uint8Array(10 * 1024 * 1024));
    const res = await h.post("/v1/logs", bomb, { ...PROTO, "content-encoding": "gzip" });
    expect(res.status).toBe(413);
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer())).message).toContain("exceeds 65536 bytes");
  });

  test("attributes past the metadata limit are dropped and counted in logproc_ingest_attributes_dropped_total", async () => {
    const h = await harness({ MAX_METADATA_BYTES: "200" });
    const attributes: [string, { string: string }][] = Array.from({ length: 20 }, (_, i) => [
      `k${i}`,
      { string: "v".repeat(20) },
    ]);
    const body = encodeOtlpLogs([{ scopes: [{ records: [{ body: { string: "m" }, attributes }] }] }]);
    expect((await h.post("/v1/logs", body, PROTO)).status).toBe(200);
    const [event] = await h.stored();
    const dropped = Number(event?.metadata?.dropped_attributes);
    expect(dropped).toBeGreaterThan(0);
    expect(await h.scrape()).toContain(`logproc_ingest_attributes_dropped_total{protocol="otlp"} ${dropped}`);
  });
});

describe("Loki POST /loki/api/v1/push", () => {
  const T = Math.floor(Date.now() / 1000);

  test("snappy protobuf: 204 once stored", async () => {
    const h = await harness();
    const body = encodeLokiPush([
      { labels: '{job="api", level="error"}', entries: [{ seconds: T, line: "boom" }] },
    ]);
    const res = await h.post("/loki/api/v1/push", body, PROTO);
    expect(res.status).toBe(204);
    const [event] = await h.stored();
    expect([event?.message, event?.level, event?.source, event?.timestamp]).toEqual([
      "boom",
      "ERROR",
      "api",
      T * 1000,
    ]);
  });

  test("JSON, gzip: 204 once stored", async () => {
    const h = await harness();
    const body = {
      streams: [{ stream: { app: "web" }, values: [[`${T}000000000`, "hello", { user: "ada" }]] }],
    };
    const res = await h.post("/loki/api/v1/push", gzipSync(JSON.stringify(body)), {
      ...JSON_TYPE,
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(204);
    const [event] = await h.stored();
    expect(event?.metadata).toEqual({ app: "web", user: "ada" });
  });

  test("bad input is a 400 in plain text; the valid entries of a push are kept", async () => {
    const h = await harness();
    const labels = await h.post(
      "/loki/api/v1/push",
      encodeLokiPush([{ labels: "app=web", entries: [] }]),
      PROTO,
    );
    expect(labels.status).toBe(400);
    expect(labels.headers.get("content-type")).toContain("text/plain");
    expect(await labels.text()).toContain("stream labels");
    const snappy = await h.post("/loki/api/v1/push", Uint8Array.from([9, 9, 9]), PROTO);
    expect(snappy.status).toBe(400);
    const json = {
      streams: [
        {
          stream: { app: "web" },
          values: [
            [`${T}000000000`, "kept"],
            [`${T}000000000`, ""],
          ],
        },
      ],
    };
    const partial = await h.post("/loki/api/v1/push", JSON.stringify(json), JSON_TYPE);
    expect(partial.status).toBe(400);
    expect(await partial.text()).toContain("1 of 2 entries refused: entry 1: message");
    expect((await h.stored()).map((e) => e.message)).toEqual(["kept"]);
  });

  test("a wrong key is a 401 in plain text; a snappy bomb is a 413", async () => {
    const h = await harness({ INGEST_API_KEYS: "k1", MAX_BODY_BYTES: "65536" });
    const body = encodeLokiPush([{ labels: '{a="b"}', entries: [{ seconds: T, line: "x" }] }]);
    const denied = await h.post("/loki/api/v1/push", body, PROTO);
    expect(denied.status).toBe(401);
    expect(await denied.text()).toContain("API key");
    const bomb = compress(new Uint8Array(1024 * 1024));
    const big = await h.post("/loki/api/v1/push", bomb, { ...PROTO, authorization: "Bearer k1" });
    expect(big.status).toBe(413);
  });
});

describe("rate limits", () => {
  test("a push over the client's rate is a 429 with Retry-After in each protocol's shape", async () => {
    const h = await harness({ RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "1" });
    const loki = encodeLokiPush([{ labels: '{a="b"}', entries: [{ seconds: 1, line: "x" }] }]);
    expect((await h.post("/v1/logs", otlpBody(["a"]), PROTO)).status).toBe(200);
    const otlp = await h.post("/v1/logs", otlpBody(["b"]), PROTO);
    expect(otlp.status).toBe(429);
    expect(otlp.headers.get("retry-after")).not.toBeNull();
    expect(decodeStatus(new Uint8Array(await otlp.arrayBuffer())).code).toBe(8);
    const push = await h.post("/loki/api/v1/push", loki, PROTO);
    expect(push.status).toBe(429);
    expect(push.headers.get("content-type")).toContain("text/plain");
  });
});

describe("no body yields a 5xx", () => {
  test("random bytes, truncations and wrong types under every content type of both endpoints", async () => {
    const h = await harness();
    const valid = [
      otlpBody(["a", "b", "c"]),
      encodeLokiPush([{ labels: '{a="b"}', entries: [{ seconds: 1, line: "x" }] }], false),
    ];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const bodies: Uint8Array[] = [];
    for (let i = 0; i < 150; i++) {
      const base = valid[i % 2] ?? new Uint8Array();
      const mutated = base.slice(0, random() % (base.length + 1));
      for (let j = 0; j < 3 && mutated.length > 0; j++) mutated[random() % mutated.length] = random() & 0xff;
      bodies.push(mutated);
      bodies.push(Uint8Array.from({ length: random() % 64 }, () => random() & 0xff));
    }
    for (const text of ['{"resourceLogs":5}', '{"streams":[{"values":[[1]]}]}', "[]", "null", '"x"'])
      bodies.push(new TextEncoder().encode(text));
    const statuses = new Set<number>();
    for (const body of bodies)
      for (const path of ["/v1/logs", "/loki/api/v1/push"])
        for (const headers of [PROTO, JSON_TYPE]) {
          const res = await h.post(
            path,
            path.startsWith("/loki") && headers === PROTO ? compress(body) : body,
            headers,
          );
          statuses.add(res.status);
          expect(res.status).toBeLessThan(500);
        }
    expect([...statuses].some((s) => s === 400)).toBe(true);
  });
});
