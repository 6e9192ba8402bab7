// Dead-letter sending on the real broker: a send refused by a failed producer is sent again on a fresh one.

import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { DeadLetterSender } from "../../src/adapters/bus/kafka/dead-letters.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { DeadLetter } from "../../src/ports/log-bus.ts";
import { deleteTopics, readTopic, testKafkaConfig } from "../contract/kafka-fixture.ts";
import { TEST_KAFKA_BROKERS } from "../helpers/services.ts";

setDefaultTimeout(120_000);

const letter = (offset: string, text: string): DeadLetter => ({
  record: { partition: 0, offset, key: "svc", value: new TextEncoder().encode(text), timestamp: Date.now() },
  topic: "the-topic",
  reason: "unparseable",
  error: "Unexpected end of JSON input",
});

describe("Kafka dead letters", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  test("a letter whose send fails on a broken producer is sent again on the next one, within the call", async () => {
    const cfg = testKafkaConfig();
    const kafka = new Kafka({
      clientId: "logproc-test",
      brokers: TEST_KAFKA_BROKERS,
      logLevel: logLevel.NOTHING,
    });
    // The real client, watched: every producer the sender makes is kept so the test can break one.
    const producers: Producer[] = [];
    const makeProducer = kafka.producer.bind(kafka);
    kafka.producer = (opts) => {
      const producer = makeProducer(opts);
      producers.push(producer);
      return producer;
    };
    const admin = kafka.admin();
    await admin.connect();
    const prepare = async () => {
      await admin.createTopics({ topics: [{ topic: dlqTopicOf(cfg.topic), numPartitions: 1 }] });
    };
    const sender = new DeadLetterSender(kafka, cfg, silentLogger, prepare);
    cleanups.push(async () => {
      await sender.stop();
      await admin.disconnect();
      await deleteTopics([dlqTopicOf(cfg.topic)]);
    });
    sender.start();
    await sender.send([letter("1", "first")]);
    expect(producers).toHaveLength(1);

    // A producer that can no longer send: kafkajs refuses the next send ("The producer is disconnected").
    await producers[0]?.disconnect();
    await sender.send([letter("2", "second")]);

    expect(producers).toHaveLength(2);
    const letters = await readTopic(dlqTopicOf(cfg.topic), 2);
    expect(letters.map((m) => m.value?.toString()).sort()).toEqual(["first", "second"]);
    expect(letters.map((m) => m.headerText["x-original-offset"]).sort()).toEqual(["1", "2"]);
  });
});
