// Runs the LogBus contract against the Kafka adapter on the real broker (one topic and group per test).

import { setDefaultTimeout } from "bun:test";
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import { createKafkaSubscriber } from "../../src/adapters/bus/kafka/subscriber.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { committedOffsets, deleteTopics, readTopic, testKafkaConfig } from "./kafka-fixture.ts";
import { logBusContract } from "./log-bus.contract.ts";

setDefaultTimeout(120_000);

logBusContract("kafka", async () => {
  const cfg = testKafkaConfig();
  const publisher = createKafkaPublisher(cfg, { logger: silentLogger });
  const subscriber = createKafkaSubscriber(cfg, {
    logger: silentLogger,
    maxBatch: 1000,
    retryBackoff: { initialMs: 50, maxMs: 500 },
  });
  return {
    publisher,
    subscriber,
    cleanup: async () => {
      await subscriber.stop();
      await publisher.stop();
      await deleteTopics([cfg.topic, dlqTopicOf(cfg.topic)]);
    },
    readDeadLetters: async (count) =>
      (await readTopic(dlqTopicOf(cfg.topic), count)).map((m) => ({
        topic: m.headerText["x-original-topic"] ?? "",
        key: m.key === null ? null : m.key.toString(),
        value: m.value,
        reason: m.headerText["x-reason"] ?? "",
        error: m.headerText["x-error"] ?? "",
        partition: Number(m.headerText["x-original-partition"]),
        offset: m.headerText["x-original-offset"] ?? "",
      })),
    committed: () => committedOffsets(cfg.group, cfg.topic),
  };
});
