// Kafka test fixtures: a KafkaConfig per test (unique topic and group), a topic reader and topic cleanup.

import { Kafka, type KafkaMessage, logLevel } from "kafkajs";
import type { KafkaConfig } from "../../src/config/load.ts";
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
  sessionTimeoutMs: 10_000,
  ssl: false,
  sslCa: undefined,
  sasl: undefined,
  ...overrides,
});

const testClient = () =>
  new Kafka({ clientId: "logproc-test-tools", brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });

export type ReadMessage = KafkaMessage & { partition: number; headerText: Record<string, string> };

/** Reads the first `count` messages of a topic (waiting for them), with headers decoded as UTF-8. */
export const readTopic = async (topic: string, count: number, timeoutMs = 60_000): Promise<ReadMessage[]> => {
  const consumer = testClient().consumer({ groupId: uniqueName("reader"), maxWaitTimeInMs: 100 });
  const messages: ReadMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headerText: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headerText[k] = Array.isArray(v) ? v.map(String).join(",") : v.toString();
        messages.push({ ...message, partition, headerText });
      },
    });
    const until = Date.now() + timeoutMs;
    while (messages.length < count) {
      if (Date.now() > until) throw new Error(`read ${messages.length} of ${count} messages from ${topic}`);
      await Bun.sleep(20);
    }
    return messages;
  } finally {
    await consumer.disconnect();
  }
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
