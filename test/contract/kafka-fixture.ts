// Kafka test fixtures: a KafkaConfig per test (unique topic and group), a topic reader and topic cleanup, and
// Kafka's own tools (its jars) for what kafkajs cannot tell.

import { Kafka, type KafkaMessage, logLevel } from "kafkajs";
import "../../src/adapters/bus/kafka/zstd.ts"; // the zstd codec: the producer compresses record batches with it
import { topicBytesOnBroker as bytesOnBroker, kafkaTool as runKafkaTool } from "../../scripts/kafka-tools.ts";
import type { KafkaConfig } from "../../src/config/load.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { compareOffsets } from "../../src/domain/offsets.ts";
import { eventsOfValue } from "../helpers/bus-events.ts";
import { TEST_KAFKA_BROKERS, uniqueName } from "../helpers/services.ts";

export const testKafkaConfig = (overrides: Partial<KafkaConfig> = {}): KafkaConfig => ({
  brokers: TEST_KAFKA_BROKERS,
  topic: uniqueName("logbus"),
  partitions: 3,
  replicationFactor: 1,
  group: uniqueName("group"),
  clientId: "logproc-test",
  sendTimeoutMs: 5000,
  lingerMs: 2,
  batchMaxEvents: 500,
  recordMaxEvents: 100,
  compression: "zstd",
  sessionTimeoutMs: 10_000,
  ssl: false,
  sslCa: undefined,
  sasl: undefined,
  ...overrides,
});

const testClient = () =>
  new Kafka({ clientId: "logproc-test-tools", brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });

export type ReadMessage = KafkaMessage & { partition: number; headerText: Record<string, string> };

/**
 * Reads the first messages of a topic until they count `count` (each message counts one, or what `weight`
 * says), waiting for them, with headers decoded as UTF-8.
 */
export const readTopic = async (
  topic: string,
  count: number,
  timeoutMs = 60_000,
  weight: (m: KafkaMessage) => number = () => 1,
): Promise<ReadMessage[]> => {
  const consumer = testClient().consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 100 });
  const messages: ReadMessage[] = [];
  let counted = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headerText: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headerText[k] = Array.isArray(v) ? v.map(String).join(",") : v.toString();
        messages.push({ ...message, partition, headerText });
        counted += weight(message);
      },
    });
    const until = Date.now() + timeoutMs;
    while (counted < count) {
      if (Date.now() > until) throw new Error(`read ${counted} of ${count} from ${topic}`);
      await Bun.sleep(20);
    }
    return messages;
  } finally {
    await consumer.disconnect();
  }
};

/** The first `count` events of a topic, each partition's in offset order (a packed record holds several). */
export const readTopicEvents = async (
  topic: string,
  count: number,
  timeoutMs = 60_000,
): Promise<LogEvent[]> => {
  const messages = await readTopic(topic, count, timeoutMs, (m) => eventsOfValue(m.value).length);
  messages.sort((a, b) => a.partition - b.partition || compareOffsets(a.offset, b.offset));
  return messages.flatMap((m) => eventsOfValue(m.value));
};

/** Every event a topic holds now: all of its records, decoded (a packed record holds several). */
export const topicEvents = async (topic: string): Promise<LogEvent[]> => {
  const records = await topicRecordCount(topic);
  const messages = await readTopic(topic, records);
  return messages.flatMap((m) => eventsOfValue(m.value));
};

/** Committed offsets of a group (partitions without a commit left out). */
export const committedOffsets = async (groupId: string, topic: string): Promise<Map<number, string>> => {
  const admin = testClient().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map(
      (offsets?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => [p.partition, p.offset]),
    );
  } finally {
    await admin.disconnect();
  }
};

/** How many records a topic holds (sum over partitions of high minus low watermark). */
export const topicRecordCount = async (topic: string): Promise<number> => {
  const admin = testClient().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
};

/** Removes a partition's records before `offset`, as retention would. */
export const deleteRecordsBefore = async (
  topic: string,
  partition: number,
  offset: string,
): Promise<void> => {
  const admin = testClient().admin();
  await admin.connect();
  try {
    // kafkajs finds the partition's leader in metadata it must have loaded first.
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition, offset }] });
  } finally {
    await admin.disconnect();
  }
};

export const deleteTopics = async (topics: string[]): Promise<void> => {
  const admin = testClient().admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
};

export const listTopics = async (): Promise<string[]> => {
  const admin = testClient().admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
};

/** One of Kafka's own tools against the test broker (scripts/kafka-tools.ts). */
export const kafkaTool = (className: string, args: string[]): Promise<string> =>
  runKafkaTool(TEST_KAFKA_BROKERS, className, args);

/** Bytes each topic takes on the test broker. */
export const topicBytesOnBroker = (topics: string[]): Promise<Map<string, number>> =>
  bytesOnBroker(TEST_KAFKA_BROKERS, topics);
