// The Kafka publisher on the real broker: batching, ordering, compression (read by Kafka's own consumer too),
// metrics, and starting without a broker.

import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { DomainError } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import {
  deleteTopics,
  kafkaTool,
  listTopics,
  readTopic,
  readTopicEvents,
  testKafkaConfig,
  topicBytesOnBroker,
  topicRecordCount,
} from "../contract/kafka-fixture.ts";
import { makeEvents, waitFor } from "../contract/log-bus.contract.ts";
import { eventsOfValue } from "../helpers/bus-events.ts";

setDefaultTimeout(120_000);

describe("Kafka publisher", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const open = async (overrides: Parameters<typeof testKafkaConfig>[0] = {}, deps = {}) => {
    const cfg = testKafkaConfig(overrides);
    const publisher = createKafkaPublisher(cfg, { logger: silentLogger, ...deps });
    cleanups.push(async () => {
      await publisher.stop();
      await deleteTopics([cfg.topic, dlqTopicOf(cfg.topic)]);
    });
    await publisher.start();
    return { cfg, publisher };
  };

  test("start() resolves with an unreachable broker; health says why, and publish fails within its timeout", async () => {
    const { publisher } = await open({ brokers: ["127.0.0.1:1"], sendTimeoutMs: 300 });
    const health = await publisher.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toContain("not connected");
    const error = await publisher.publish(makeEvents(3, ["a"])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("unavailable");
  });

  test("creates the topic and its dead-letter topic, then reports healthy", async () => {
    const { cfg, publisher } = await open({ partitions: 4 });
    await publisher.publish(makeEvents(1, ["a"]));
    await waitFor("healthy", async () => (await publisher.health()).ok);
    expect((await publisher.health()).detail).toContain("4 partitions");
    const topics = await listTopics();
    expect(topics).toContain(cfg.topic);
    expect(topics).toContain(dlqTopicOf(cfg.topic));
    expect(await readTopic(cfg.topic, 1)).toHaveLength(1);
    await publisher.publish([]);
  });

  test("a publish bigger than one request is split, and one source's events stay in order", async () => {
    const { cfg, publisher } = await open({}, { maxRequestBytes: 64 * 1024 });
    const events = makeEvents(3000, ["only-source"]).map((e) => ({
      ...e,
      message: `${e.message} ${"x".repeat(200)}`,
    }));
    await publisher.publish(events);
    const read = await readTopic(cfg.topic, events.length, 60_000, (m) => eventsOfValue(m.value).length);
    expect(new Set(read.map((m) => m.partition)).size).toBe(1);
    // Packed: a record per 100 events (~30 KB), so two records share each 64 KB request.
    expect(read.length).toBe(30);
    expect(read.every((m) => m.key?.toString() === "only-source")).toBe(true);
    const ids = (await readTopicEvents(cfg.topic, events.length)).map((e) => e.id);
    expect(ids).toEqual(events.map((e) => e.id));
  });

  test("compresses with zstd by default: Kafka's own consumer reads the events, stored in under half the bytes", async () => {
    const { cfg: zstd, publisher } = await open({ partitions: 1 });
    const { cfg: plain, publisher: uncompressed } = await open({ partitions: 1, compression: "none" });
    expect(zstd.compression).toBe("zstd");
    const events = makeEvents(2000, ["a", "b"]);
    await publisher.publish(events);
    await uncompressed.publish(events);
    const bytes = await topicBytesOnBroker([zstd.topic, plain.topic]);
    const [compressed, raw] = [bytes.get(zstd.topic) ?? 0, bytes.get(plain.topic) ?? 0];
    expect(raw).toBeGreaterThan(2000 * 100);
    expect(compressed).toBeGreaterThan(0);
    expect(compressed).toBeLessThan(raw / 2);
    // A consumer that is not kafkajs (Kafka's console consumer, Java) reads the records: one JSON value each.
    const out = await kafkaTool("org.apache.kafka.tools.consumer.ConsoleConsumer", [
      "--topic",
      zstd.topic,
      "--from-beginning",
      "--max-messages",
      String(await topicRecordCount(zstd.topic)),
      "--timeout-ms",
      "60000",
    ]);
    const bySource = (read: LogEvent[]) =>
      ["a", "b"].map((source) => read.filter((e) => e.source === source).map((e) => e.id));
    const java = out
      .split("\n")
      .filter((l) => l.startsWith("[") || l.startsWith("{"))
      .flatMap((l) => eventsOfValue(l));
    expect(bySource(java)).toEqual(bySource(events));
    // And logproc's own reader (kafkajs with the codec) reads them the same.
    expect(bySource(await readTopicEvents(zstd.topic, events.length))).toEqual(bySource(events));
  });

  test("publishes gzip-compressed batches that read back unchanged", async () => {
    const { cfg, publisher } = await open({ compression: "gzip" });
    const events = makeEvents(500, ["a", "b"]);
    await publisher.publish(events);
    const ids = (await readTopicEvents(cfg.topic, events.length)).map((e) => e.id);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    expect(ids).toHaveLength(events.length);
  });

  test("counts sent events and send durations in the metrics", async () => {
    const metrics = createMetrics(new Registry(), { defaults: false });
    const { publisher } = await open({}, { metrics });
    await publisher.publish(makeEvents(25, ["a"]));
    await publisher.publish(makeEvents(5, ["b"]));
    const sent = await metrics.kafkaSent.get();
    expect(sent.values.find((v) => v.labels.result === "ok")?.value).toBe(30);
    const durations = await metrics.kafkaSendDuration.get();
    expect(durations.values.find((v) => v.metricName === "kafka_send_duration_seconds_count")?.value).toBe(2);
  });

  test("stop() waits for sends in flight and is idempotent", async () => {
    const { publisher } = await open();
    const sending = publisher.publish(makeEvents(200, ["a", "b", "c"]));
    await sending;
    await publisher.stop();
    await publisher.stop();
    const after = await publisher.publish(makeEvents(1, ["a"])).then(
      () => "resolved",
      () => "rejected",
    );
    expect(after).toBe("rejected");
  });
});
