// No API key or password ever appears in logproc's log lines or in an HTTP answer.
//
// The logger's write hook captures every line (at debug level) while requests are driven with wrong and right
// keys, against configurations whose URLs and variables carry passwords: once on the real services (the store
// and bus work; Redis refuses the password it did not ask for), once with every service unreachable (errors
// flow into logs and health answers), once with a SASL password the real broker cannot use.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import postgres from "postgres";
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import { createLogger, type Logger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { createCache } from "../../src/roles/adapters.ts";
import { startRoles } from "../../src/roles/compose.ts";
import { buildGatewayApp } from "../../src/roles/gateway.ts";
import { buildProducerApp } from "../../src/roles/producer.ts";
import { deleteTopics } from "../contract/kafka-fixture.ts";
import { freePort, freePorts, portEnv, tempDir } from "../helpers/proc.ts";
import { TEST_KAFKA_BROKERS, TEST_POSTGRES_URL, uniqueName } from "../helpers/services.ts";

setDefaultTimeout(120_000);

const SECRETS = {
  ingestKey: "ingest-K3y-5ecret-b7e1d0",
  otherIngestKey: "ingest-K3y-other-44c2aa",
  queryKey: "query-K3y-5ecret-19f0e3",
  pgPassword: "pg-Pa55w0rd-in-url-7d1c",
  pgPasswordVar: "pg-Pa55w0rd-var-3b9e",
  redisPassword: "redis-Pa55w0rd-0c4f",
  saslPassword: "sasl-Pa55w0rd-e6a2",
};

/** A secret in the forms it could leak in: as is, URL-encoded, base64 (Basic auth), JSON-escaped. */
const forms = (secret: string): string[] => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString("base64").slice(0, 16),
  JSON.stringify(secret).slice(1, -1),
];

const leaks = (texts: string[], secrets: string[] = Object.values(SECRETS)): string[] =>
  texts.flatMap((t) =>
    secrets.flatMap((s) => (forms(s).some((f) => t.includes(f)) ? [`${s} in: ${t.slice(0, 300)}`] : [])),
  );

/** A logger at debug level whose every line is kept. */
const capture = (): { logger: Logger; lines: string[] } => {
  const lines: string[] = [];
  return { logger: createLogger("debug", { service: "logproc" }, (line) => lines.push(line)), lines };
};

const answers: string[] = [];
const call = async (url: string, init: RequestInit = {}): Promise<Response> => {
  const res = await fetch(url, init);
  const text = await res.text();
  answers.push(`${res.status} ${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("; ")} ${text}`);
  return new Response(text, { status: res.status, headers: res.headers });
};

const EVENT = JSON.stringify({ level: "info", message: "secret scan", source: "security" });
const wrongKeys = (key: string): Record<string, string>[] => [
  {},
  { authorization: "Bearer wrong" },
  { authorization: `Bearer ${key.slice(0, -1)}` },
  { authorization: `Bearer ${key}0` },
  { "x-api-key": key.toUpperCase() },
  // Basic takes the key as the password (what shippers send); as the user name it is no key.
  { authorization: `Basic ${Buffer.from(`${key}:u`).toString("base64")}` },
];

describe("with the real services and passwords in every URL", () => {
  const { logger, lines } = capture();
  const database = uniqueName("secrets");
  const topic = uniqueName("secrets");
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  const dataDir = tempDir();
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await admin.unsafe(`drop database if exists "${database}" with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
    await deleteTopics([topic, dlqTopicOf(topic)]).catch(() => {});
  });

  test("drives every role with wrong and right keys; nothing secret is logged or answered", async () => {
    await admin.unsafe(`create database "${database}"`);
    const url = new URL(TEST_POSTGRES_URL);
    url.username = "postgres";
    url.password = SECRETS.pgPassword; // trust authentication: accepted and never needed
    url.pathname = `/${database}`;
    const ports = freePorts();
    const config = loadConfig({
      ...portEnv(ports),
      LOG_LEVEL: "debug",
      DATA_DIR: dataDir,
      POSTGRES_URL: url.toString(),
      KAFKA_BOOTSTRAP_SERVERS: TEST_KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: topic,
      KAFKA_PARTITIONS: "1",
      KAFKA_CONSUMER_GROUP: uniqueName("secrets_group"),
      REDIS_URL: `redis://:${SECRETS.redisPassword}@127.0.0.1:6379`,
      INGEST_API_KEYS: `${SECRETS.ingestKey},${SECRETS.otherIngestKey}`,
      QUERY_API_KEYS: SECRETS.queryKey,
    });
    const running = await startRoles(config, logger, createMetrics(new Registry(), { defaults: false }));
    try {
      const P = `http://127.0.0.1:${ports.producer}/producer/api/logs`;
      const G = `http://127.0.0.1:${ports.gateway}/gateway/api/query`;
      const json = { "content-type": "application/json" };
      for (const headers of wrongKeys(SECRETS.ingestKey)) {
        expect(
          (await call(`${P}/ingest`, { method: "POST", headers: { ...json, ...headers }, body: EVENT }))
            .status,
        ).toBe(401);
        expect(
          (await call(`${P}/batch`, { method: "POST", headers: { ...json, ...headers }, body: `[${EVENT}]` }))
            .status,
        ).toBe(401);
      }
      for (const headers of wrongKeys(SECRETS.queryKey))
        expect((await call(`${G}/logs`, { headers })).status).toBe(401);
      // Keys of one role presented to the other.
      expect((await call(`${G}/logs`, { headers: { "x-api-key": SECRETS.ingestKey } })).status).toBe(401);
      expect(
        (
          await call(`${P}/ingest`, {
            method: "POST",
            headers: { ...json, "x-api-key": SECRETS.queryKey },
            body: EVENT,
          })
        ).status,
      ).toBe(401);

      const ok = await call(`${P}/ingest`, {
        method: "POST",
        headers: { ...json, authorization: `Bearer ${SECRETS.ingestKey}` },
        body: EVENT,
      });
      expect(ok.status).toBe(200);
      const { logId } = (await ok.json()) as { logId: string };
      // Bad requests with a right key: their errors are logged or answered, the key must not be.
      for (const body of ["{", `{"level":"nope"}`, "[]"])
        await call(`${P}/ingest`, {
          method: "POST",
          headers: { ...json, "x-api-key": SECRETS.otherIngestKey },
          body,
        });
      const auth = { authorization: `Bearer ${SECRETS.queryKey}` };
      for (let i = 0; i < 100; i++) {
        const res = await call(`${G}/logs/${logId}`, { headers: auth });
        if (res.status === 200) break;
        await Bun.sleep(100);
      }
      expect((await call(`${G}/logs/${logId}`, { headers: auth })).status).toBe(200);
      for (const q of ["logs?size=0", "search?query=secret", "stats", "logs/none"])
        await call(`${G}/${q}`, { headers: auth });
      for (const port of [ports.producer, ports.gateway, ports.consumer])
        for (const path of [
          "/metrics",
          "/producer/api/logs/health",
          "/gateway/api/query/health",
          "/actuator/health",
        ])
          await call(`http://127.0.0.1:${port}${path}`);
    } finally {
      await running.stop();
    }
    expect(lines.length).toBeGreaterThan(0);
    expect(leaks([...lines, ...answers])).toEqual([]);
  });
});

describe("with every service unreachable and passwords in URLs and variables", () => {
  test("errors reach logs and answers (503, health details) without a password in them", async () => {
    const { logger, lines } = capture();
    const closed = freePort();
    const config = loadConfig({
      POSTGRES_URL: `postgres://logproc:${SECRETS.pgPassword}@127.0.0.1:${closed}/logproc`,
      POSTGRES_PASSWORD: SECRETS.pgPasswordVar,
      REDIS_URL: `redis://:${SECRETS.redisPassword}@127.0.0.1:${closed}`,
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${closed}`,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "logproc",
      KAFKA_SASL_PASSWORD: SECRETS.saslPassword,
      KAFKA_SEND_TIMEOUT_MS: "500",
      INGEST_API_KEYS: SECRETS.ingestKey,
      QUERY_API_KEYS: SECRETS.queryKey,
    });
    const metrics = createMetrics(new Registry(), { defaults: false });
    const store = createPostgresStore(config.postgres as NonNullable<typeof config.postgres>, {
      logger,
      healthTimeoutMs: 3000,
    });
    const cache = createCache(config, metrics, logger);
    await cache.start();
    const gateway = buildGatewayApp(config, { reader: store.reader, cache, metrics, logger });
    const publisher = createKafkaPublisher(config.kafka as NonNullable<typeof config.kafka>, { logger });
    const producer = buildProducerApp(config, { publisher, metrics, logger, guard: { timeoutMs: 2000 } });
    try {
      const texts: string[] = [];
      const keep = async (res: Response) => {
        texts.push(`${res.status} ${await res.text()}`);
        return res.status;
      };
      const auth = { authorization: `Bearer ${SECRETS.queryKey}` };
      expect(await keep(await gateway.request("/gateway/api/query/logs", { headers: auth }))).toBe(503);
      expect(await keep(await gateway.request("/gateway/api/query/search?query=x", { headers: auth }))).toBe(
        503,
      );
      expect(await keep(await gateway.request("/gateway/api/query/health"))).toBe(503);
      const post = {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": SECRETS.ingestKey },
        body: EVENT,
      };
      expect(await keep(await producer.request("/producer/api/logs/ingest", post))).toBe(503);
      await keep(await producer.request("/producer/api/logs/health"));
      expect(lines.some((l) => l.includes("log store read failed"))).toBe(true);
      expect(leaks([...lines, ...texts])).toEqual([]);
    } finally {
      await cache.stop();
      await publisher.stop().catch(() => {});
      await store.reader.stop();
      await store.writer.stop();
    }
  });

  test("a SASL password the real broker cannot use is not logged when authentication fails", async () => {
    const { logger, lines } = capture();
    const config = loadConfig({
      KAFKA_BOOTSTRAP_SERVERS: TEST_KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: uniqueName("secrets_sasl"),
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "logproc",
      KAFKA_SASL_PASSWORD: SECRETS.saslPassword,
      KAFKA_SEND_TIMEOUT_MS: "1000",
      INGEST_API_KEYS: SECRETS.ingestKey,
    });
    const publisher = createKafkaPublisher(config.kafka as NonNullable<typeof config.kafka>, { logger });
    const producer = buildProducerApp(config, {
      publisher,
      metrics: undefined,
      logger,
      guard: { timeoutMs: 3000 },
    });
    try {
      const res = await producer.request("/producer/api/logs/ingest", {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": SECRETS.ingestKey },
        body: EVENT,
      });
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(leaks([...lines, text])).toEqual([]);
    } finally {
      await publisher.stop().catch(() => {});
    }
  });
});

describe("configuration errors", () => {
  test.each([
    [
      "an invalid POSTGRES_URL",
      { POSTGRES_URL: `postgres://u:${SECRETS.pgPassword}@/db?x=${SECRETS.pgPassword}` },
    ],
    [
      "an invalid POSTGRES_READ_URL",
      { POSTGRES_URL: "postgres://h/db", POSTGRES_READ_URL: `mysql://u:${SECRETS.pgPassword}@h` },
    ],
    ["an invalid REDIS_URL", { REDIS_URL: `http://:${SECRETS.redisPassword}@h` }],
    ["SASL without a user", { KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_PASSWORD: SECRETS.saslPassword }],
    [
      "a bad variable beside the secrets",
      { GATEWAY_PORT: "x", INGEST_API_KEYS: SECRETS.ingestKey, POSTGRES_PASSWORD: SECRETS.pgPasswordVar },
    ],
  ])("name the variable, never its value: %s", (_what, env) => {
    let message = "";
    try {
      loadConfig(env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).not.toBe("");
    expect(leaks([message])).toEqual([]);
  });
});

describe("the logger itself", () => {
  test("redacts secret-named fields and credentials in URLs, also inside errors and nested values", () => {
    const { logger, lines } = capture();
    logger.error("connect failed", {
      password: SECRETS.pgPasswordVar,
      apiKey: SECRETS.ingestKey,
      "x-api-key": SECRETS.queryKey,
      authorization: `Bearer ${SECRETS.queryKey}`,
      token: SECRETS.otherIngestKey,
      url: `postgres://logproc:${SECRETS.pgPassword}@db:5432/logproc`,
      nested: {
        list: [`redis://:${SECRETS.redisPassword}@cache:6379/0`],
        error: new Error(`login to amqp://u:${SECRETS.saslPassword}@mq failed`),
      },
    });
    logger.child({ component: "postgres" }).warn(`retrying postgres://x:${SECRETS.pgPassword}@h/db`);
    expect(lines).toHaveLength(2);
    expect(leaks(lines)).toEqual([]);
    expect(lines.join("\n")).toContain("[redacted]");
  });

  test("redacts the fields a child logger is created with", () => {
    const { logger, lines } = capture();
    logger
      .child({ password: SECRETS.pgPasswordVar, url: `postgres://u:${SECRETS.pgPassword}@db/logproc` })
      .child({ apiKey: SECRETS.ingestKey })
      .info("started");
    expect(lines).toHaveLength(1);
    expect(leaks(lines)).toEqual([]);
    expect(lines.join("\n")).toContain("[redacted]");
  });
});
