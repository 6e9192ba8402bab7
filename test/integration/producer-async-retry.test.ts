// /ingest/async over real Kafka: a failed background publish is retried until the bus is back, or given up
// (counted and logged with the event id); past ASYNC_MAX_PENDING waiting events the endpoint answers 503.

import { afterEach, describe, expect, test } from "bun:test";
import { connect, createServer, type Server } from "node:net";
import { Kafka, logLevel } from "kafkajs";
import "../../src/adapters/bus/kafka/zstd.ts"; // the zstd codec: the producer compresses record batches with it
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { loadConfig } from "../../src/config/load.ts";
import { decodeRecord } from "../../src/domain/wire.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics, type Metrics, Registry } from "../../src/observability/metrics.ts";
import { buildProducerApp, type ProducerParts } from "../../src/roles/producer.ts";
import { deleteTopics } from "../contract/kafka-fixture.ts";
import {
  API,
  type Cleanup,
  JSON_TYPE,
  replyOf,
  runCleanups,
  validEvent,
} from "../helpers/producer-harness.ts";
import { TEST_KAFKA_BROKERS, uniqueName } from "../helpers/services.ts";

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const listen = (server: Server, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

/** A port where nothing listens until open() starts forwarding it to the real broker. */
const brokerBehindPort = async () => {
  const [host, port] = (TEST_KAFKA_BROKERS[0] ?? "127.0.0.1:9092").split(":");
  const probe = createServer();
  const free = await listen(probe, 0);
  await close(probe);
  const proxy = createServer((client) => {
    const upstream = connect(Number(port), host);
    client.pipe(upstream).pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  cleanups.push(() => (proxy.listening ? close(proxy) : Promise.resolve()));
  return { broker: `127.0.0.1:${free}`, open: () => listen(proxy, free) };
};

const sampleOf = async (metric: { get(): Promise<{ values: { value: number; labels: object }[] }> }) =>
  (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);

const producerOn = async (
  broker: string,
  env: Record<string, string>,
  asyncRetry: ProducerParts["asyncRetry"],
) => {
  const topic = uniqueName("async");
  cleanups.push(() => deleteTopics([topic, dlqTopicOf(topic)]));
  const config = loadConfig({
    KAFKA_BOOTSTRAP_SERVERS: broker,
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "1",
    ...env,
  });
  if (!config.kafka) throw new Error("no Kafka settings");
  const publisher = createKafkaPublisher(config.kafka, { logger: createLogger("error", {}, () => {}) });
  await publisher.start();
  cleanups.push(() => publisher.stop());
  const lines: string[] = [];
  const metrics: Metrics = createMetrics(new Registry(), { defaults: false });
  const app = buildProducerApp(config, {
    publisher,
    metrics,
    logger: createLogger("info", {}, (line) => lines.push(line)),
    ...(asyncRetry ? { asyncRetry } : {}),
  });
  const ingestAsync = () =>
    app.request(`${API}/ingest/async`, {
      method: "POST",
      body: JSON.stringify(validEvent),
      headers: JSON_TYPE,
    });
  return { topic, metrics, lines, ingestAsync };
};

const until = async (what: string, ok: () => Promise<boolean>, ms = 60_000) => {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await Bun.sleep(50);
  }
};

/** Ids of the events on the topic, read with a consumer of its own group. */
const idsOn = async (topic: string, count: number): Promise<string[]> => {
  const kafka = new Kafka({
    clientId: "async-test",
    brokers: TEST_KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 100 });
  const ids: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeRecord(message.value);
        if (decoded.ok) for (const e of decoded.events) if (e.ok) ids.push(e.event.id);
      },
    });
    await until("events on the topic", async () => ids.length >= count, 30_000);
    return ids;
  } finally {
    await consumer.disconnect();
  }
};

describe("async ingest over Kafka", () => {
  test("retries a failed background publish and delivers it once the broker is reachable", async () => {
    const bus = await brokerBehindPort();
    const p = await producerOn(
      bus.broker,
      { ASYNC_PUBLISH_ATTEMPTS: "12", KAFKA_SEND_TIMEOUT_MS: "1000" },
      {
        initialDelayMs: 300,
        maxDelayMs: 2000,
      },
    );
    const res = await p.ingestAsync();
    expect(res.status).toBe(202);
    const { logId } = await replyOf(res);
    // The first tries fail: nothing listens on the broker's port.
    await until("a failed send", async () => (await sampleOf(p.metrics.kafkaSent)) > 0);
    expect(await sampleOf(p.metrics.asyncPending)).toBe(1);
    await bus.open();

    await until("nothing pending", async () => (await sampleOf(p.metrics.asyncPending)) === 0);
    expect(await sampleOf(p.metrics.asyncDropped)).toBe(0);
    // A try that timed out may have landed after all: the topic can hold the event twice, the store keeps one.
    expect([...new Set(await idsOn(p.topic, 1))]).toEqual([logId ?? "?"]);
    expect(p.lines.filter((l) => l.includes("dropped"))).toEqual([]);
  }, 90_000);

  test("gives an event up after its last try: counted in the dropped metric and logged with its id", async () => {
    const bus = await brokerBehindPort(); // never opened
    const p = await producerOn(
      bus.broker,
      { ASYNC_PUBLISH_ATTEMPTS: "3", KAFKA_SEND_TIMEOUT_MS: "500" },
      {
        initialDelayMs: 50,
        maxDelayMs: 200,
      },
    );
    const res = await p.ingestAsync();
    expect(res.status).toBe(202);
    const { logId } = await replyOf(res);
    await until("the give-up", async () => (await sampleOf(p.metrics.asyncDropped)) === 1);
    expect(await sampleOf(p.metrics.asyncPending)).toBe(0);
    const dropped = p.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.ids);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ level: "error", ids: [logId], attempts: 3 });
    // Every try went to the bus: three sends failed.
    expect(await sampleOf(p.metrics.kafkaSent)).toBe(3);
  }, 60_000);

  test("answers 503 with Retry-After once ASYNC_MAX_PENDING events await the bus, instead of queueing more", async () => {
    const bus = await brokerBehindPort(); // never opened
    const p = await producerOn(
      bus.broker,
      { ASYNC_PUBLISH_ATTEMPTS: "2", ASYNC_MAX_PENDING: "2" },
      {
        initialDelayMs: 1000,
        maxDelayMs: 1000,
      },
    );
    expect((await p.ingestAsync()).status).toBe(202);
    expect((await p.ingestAsync()).status).toBe(202);
    const refused = await p.ingestAsync();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect((await replyOf(refused)).error).toBe("overloaded");
    expect(await sampleOf(p.metrics.asyncPending)).toBe(2);
    // Once the two are given up there is room again.
    await until("the give-ups", async () => (await sampleOf(p.metrics.asyncDropped)) === 2);
    expect((await p.ingestAsync()).status).toBe(202);
    await until("the third give-up", async () => (await sampleOf(p.metrics.asyncDropped)) === 3);
  }, 60_000);
});
