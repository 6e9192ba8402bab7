// Elasticsearch _bulk and Splunk HEC against the compiled binary on Kafka and PostgreSQL, driven by the real
// clients (@elastic/elasticsearch and its bulk helper, splunk-logging); every event found through the gateway.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Client, errors, HttpConnection } from "@elastic/elasticsearch";
import { Logger as SplunkLogger } from "splunk-logging";
import { type FoundEvent, type ProtocolStack, startProtocolStack } from "../helpers/protocols-stack.ts";
import { uniqueName } from "../helpers/services.ts";

setDefaultTimeout(180_000);

// The client's default transport (undici's pool) does not run on Bun; its node:http transport does.
const esClient = (options: Omit<ConstructorParameters<typeof Client>[0], "node">) =>
  new Client({ node: stack.producerUrl, Connection: HttpConnection, ...options });

let stack: ProtocolStack;
beforeAll(async () => {
  stack = await startProtocolStack("proto_http");
});
afterAll(async () => {
  await stack?.stop();
});

const byMessage = (events: FoundEvent[]) => new Map(events.map((e) => [e.message, e]));

describe("Elasticsearch _bulk through the official client", () => {
  test("the bulk helper's documents are all stored with their level, source, message and metadata", async () => {
    const tag = uniqueName("es");
    const [svc, container, host, index] = [`${tag}-svc`, `${tag}-ctr`, `${tag}-host`, `logs-${tag}`];
    const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)).toISOString();
    const docs: Record<string, unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 0)
        docs.push({
          "@timestamp": at(i),
          message: `filebeat ${i}`,
          log: { level: "warn", file: { path: "/var/log/app.log" } },
          service: { name: svc },
          host: { name: "node-1" },
        });
      else if (i % 4 === 1)
        docs.push({
          "@timestamp": at(i),
          log: `fluent ${i}`,
          level: "ERROR",
          kubernetes: { container_name: container, namespace_name: "shop" },
          stream: "stderr",
        });
      else if (i % 4 === 2)
        docs.push({ timestamp: at(i), msg: `vector ${i}`, severity: "debug", "host.name": host });
      else docs.push({ message: `plain ${i}`, custom: { n: i } });
    }
    docs.push({ message: "has a NUL \u0000 and cannot be stored", service: { name: svc } });
    const client = esClient({ auth: { apiKey: stack.key } });
    const info = await client.info();
    expect(info.version.number).toBe("8.17.0");
    const dropped: { status: number; error: unknown }[] = [];
    const stats = await client.helpers.bulk({
      datasource: docs,
      onDocument: () => ({ create: { _index: index } }),
      onDrop: (d) => dropped.push({ status: d.status, error: d.error }),
      flushBytes: 8_000,
      concurrency: 2,
      retries: 0,
    });
    await client.close();
    expect(stats.successful).toBe(200);
    expect(dropped.map((d) => d.status)).toEqual([400]);
    expect(JSON.stringify(dropped[0]?.error)).toContain("NUL");

    const fb = byMessage(await stack.eventsOf(svc, 50));
    expect(fb.size).toBe(50);
    const first = fb.get("filebeat 0");
    expect(first).toMatchObject({ level: "WARN", source: svc, timestamp: at(0) });
    expect(first?.metadata).toEqual({
      log: { file: { path: "/var/log/app.log" } },
      service: { name: svc },
      host: { name: "node-1" },
    });
    const fl = byMessage(await stack.eventsOf(container, 50));
    expect(fl.get("fluent 1")).toMatchObject({ level: "ERROR", source: container });
    expect(fl.get("fluent 1")?.metadata).toEqual({
      kubernetes: { container_name: container, namespace_name: "shop" },
      stream: "stderr",
    });
    const vec = byMessage(await stack.eventsOf(host, 50));
    expect(vec.get("vector 2")).toMatchObject({ level: "DEBUG", source: host, timestamp: at(2) });
    const plain = byMessage(await stack.eventsOf(index, 50));
    expect(plain.get("plain 3")).toMatchObject({
      level: "INFO",
      source: index,
      metadata: { custom: { n: 3 } },
    });
  });

  test("gzip bodies and Basic credentials with the key as password; a wrong key is a security_exception", async () => {
    const tag = uniqueName("esgz");
    const client = esClient({
      compression: true,
      auth: { username: "elastic", password: stack.key },
    });
    const answer = await client.bulk({
      index: `idx-${tag}`,
      operations: [
        { index: { _id: `${tag}-1` } },
        { message: "gzip one", "service.name": tag, level: "info" },
        { create: {} },
        { message: "gzip two", "service.name": tag, level: "error" },
        { update: { _id: "x" } },
        { doc: { a: 1 } },
      ],
    });
    await client.close();
    expect(answer.errors).toBe(true);
    expect(answer.items.map((i) => Object.values(i)[0]?.status)).toEqual([201, 201, 400]);
    expect(answer.items[0]?.index?._id).toBe(`${tag}-1`);
    const stored = byMessage(await stack.eventsOf(tag, 2));
    expect(stored.get("gzip one")?.id).toBe(`${tag}-1`);
    expect(stored.get("gzip two")?.level).toBe("ERROR");

    const wrong = esClient({ auth: { apiKey: "not-the-key" } });
    const refused = await wrong.info().catch((e: unknown) => e);
    await wrong.close();
    expect(refused).toBeInstanceOf(errors.ResponseError);
    const meta = (refused as InstanceType<typeof errors.ResponseError>).meta;
    expect(meta.statusCode).toBe(401);
    expect(JSON.stringify(meta.body)).toContain("security_exception");
  });

  test("the handshake answers what Filebeat, Logstash, Vector and Fluent Bit read before sending", async () => {
    const auth = { authorization: `Basic ${Buffer.from(`elastic:${stack.key}`).toString("base64")}` };
    const get = async (path: string, method = "GET", body?: string) => {
      const res = await fetch(`${stack.producerUrl}${path}`, {
        method,
        headers: { ...auth, "content-type": "application/json" },
        ...(body ? { body } : {}),
      });
      expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
      return { status: res.status, text: method === "HEAD" ? "" : await res.text() };
    };
    // Filebeat and Vector: GET / → version.number, whose major picks the bulk format; HEAD / answers 200.
    const root = JSON.parse((await get("/")).text) as { version: { number: string; build_flavor: string } };
    expect(root.version.number.split(".")[0]).toBe("8");
    expect(root.version.build_flavor).toBe("default");
    expect((await get("/", "HEAD")).status).toBe(200);
    // Vector's healthcheck and the cluster state clients wait for.
    expect(JSON.parse((await get("/_cluster/health")).text)).toMatchObject({ status: "green" });
    // Logstash's license check, and the setup calls Filebeat and Logstash make (exists → not rewritten).
    expect(JSON.parse((await get("/_license")).text)).toMatchObject({ license: { status: "active" } });
    expect(JSON.parse((await get("/_xpack")).text)).toMatchObject({ features: { ilm: { available: true } } });
    for (const path of ["/_index_template/filebeat-8", "/_ilm/policy/filebeat", "/_ingest/pipeline/p1"]) {
      expect((await get(path, "HEAD")).status).toBe(200);
      expect(JSON.parse((await get(path, "PUT", "{}")).text)).toMatchObject({ acknowledged: true });
    }
    expect(JSON.parse((await get("/_nodes/_all/http")).text)).toMatchObject({ _nodes: { successful: 1 } });
    // Fluent Bit reads a long answer by this literal when it cannot parse it whole.
    const ok = await get(
      "/fb/_bulk",
      "POST",
      `{"index":{}}\n{"log":"x","kubernetes":{"container_name":"fbcheck"}}\n`,
    );
    expect(ok.text).toContain('"errors":false,"items":[');
  });
});

describe("Splunk HEC through splunk-logging", () => {
  test("a batch of concatenated events is answered Success and every event is stored", async () => {
    const source = uniqueName("hec");
    const logger = new SplunkLogger({
      token: stack.key,
      url: stack.producerUrl,
      maxBatchCount: 0,
      maxRetries: 0,
    });
    const failures: unknown[] = [];
    logger.error = (error) => failures.push(error);
    for (let i = 0; i < 12; i++)
      logger.send({
        message: `hec ${i}`,
        severity: i % 3 === 0 ? "error" : "info",
        metadata: { source, host: "hec-host", sourcetype: "_json" },
      });
    const answer = await new Promise<{ status: number | undefined; body: unknown }>((resolve) =>
      logger.flush((_error, response, body) => resolve({ status: response?.statusCode, body })),
    );
    expect(failures).toEqual([]);
    expect(answer.status).toBe(200);
    expect(typeof answer.body === "string" ? JSON.parse(answer.body) : answer.body).toEqual({
      text: "Success",
      code: 0,
    });
    const stored = byMessage(await stack.eventsOf(source, 12));
    expect(stored.size).toBe(12);
    expect(stored.get("hec 0")).toMatchObject({ level: "ERROR", source });
    expect(stored.get("hec 1")?.metadata).toEqual({ host: "hec-host", source, sourcetype: "_json" });
  });

  test("a wrong token and a malformed body get HEC's own codes, never a 5xx", async () => {
    const post = (body: string, token: string) =>
      fetch(`${stack.producerUrl}/services/collector/event`, {
        method: "POST",
        headers: { authorization: `Splunk ${token}` },
        body,
      });
    const wrong = await post('{"event":"x"}', "nope");
    expect([wrong.status, await wrong.json()]).toEqual([403, { text: "Invalid token", code: 4 }]);
    const bad = await post('{"event":"ok"} not json', stack.key);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 6, "invalid-event-number": 1 });
    const missing = await post('{"time":1}', stack.key);
    expect(await missing.json()).toMatchObject({ code: 12, "invalid-event-number": 0 });
  });
});
