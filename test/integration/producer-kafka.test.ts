// The producer app over the real Kafka publisher: an accepted event is on the topic; an unreachable broker is a 503.

import { afterEach, describe, expect, test } from "bun:test";
import { Kafka, type KafkaMessage, logLevel } from "kafkajs";
import "../../src/adapters/bus/kafka/zstd.ts"; // the zstd codec: the producer compresses record batches with it
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { type Config, loadConfig } from "../../src/config/load.ts";
import { decodeEvent } from "../../src/domain/wire.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { buildProducerApp } from "../../src/roles/producer.ts";
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

const tools = new Kafka({
  clientId: "producer-kafka-test",
  brokers: TEST_KAFKA_BROKERS,
  logLevel: logLevel.NOTHING,
});

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const producerOn = async (brokers: string[]) => {
  const topic = uniqueName("producer");
  const config: Config = loadConfig({
    KAFKA_BOOTSTRAP_SERVERS: brokers.join(","),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "2",
  });
  if (!config.kafka) throw new Error("no Kafka settings");
  // The guard owns the bus metrics; the adapter gets none so nothing is counted twice.
  const publisher = createKafkaPublisher(config.kafka, { logger: silentLogger });
  await publisher.start();
  cleanups.push(() => publisher.stop());
  const app = buildProducerApp(config, {
    publisher,
    metrics: createMetrics(new Registry()),
    logger: silentLogger,
  });
  return {
    topic,
    ingest: (body: unknown) =>
      app.request(`${API}/ingest`, { method: "POST", body: JSON.stringify(body), headers: JSON_TYPE }),
    health: () => app.request(`${API}/health`),
  };
};

/** The first `count` messages of a topic, read by a kafkajs consumer of its own group. */
const readTopic = async (topic: string, count: number): Promise<KafkaMessage[]> => {
  const consumer = tools.consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
      },
    });
    while (messages.length < count) await Bun.sleep(20);
    return messages;
  } finally {
    await consumer.disconnect();
  }
};

describe("producer on Kafka", () => {
  test("200 means the event is on the topic, keyed by source, byte-identical", async () => {
    const p = await producerOn(TEST_KAFKA_BROKERS);
    cleanups.push(() => deleteTopics([p.topic, dlqTopicOf(p.topic)]));
    // The publisher connects and creates the topic in the background; health turns 200 once it is ready.
    while ((await p.health()).status !== 200) await Bun.sleep(100);

    const message = "payment ok ✓ 😀\nsecond line";
    const res = await p.ingest({ ...validEvent, message, metadata: { order: 42 } });
    expect(res.status).toBe(200);
    const { logId } = await replyOf(res);

    const [record] = await readTopic(p.topic, 1);
    expect(record?.key?.toString()).toBe("auth");
    // One event alone is a record of its own object, the form every consumer reads.
    const decoded = decodeEvent(record?.value ?? null);
    expect(decoded).toMatchObject({
      ok: true,
      event: { id: logId, level: "INFO", message, metadata: { order: 42 } },
    });
  }, 60_000);

  test("an unreachable broker answers 503 with Retry-After, and health is 503", async () => {
    const p = await producerOn(["127.0.0.1:1"]);
    const res = await p.ingest(validEvent);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await replyOf(res)).error).toBe("unavailable");

    const health = await p.health();
    expect(health.status).toBe(503);
    expect(await replyOf(health)).toMatchObject({ status: "unhealthy", reason: expect.any(String) });
  }, 10_000);
});
