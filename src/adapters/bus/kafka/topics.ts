// Creates the log topic and its dead-letter topic `<topic>.dlq` when missing; shared by producer and consumer.

import type { Admin } from "kafkajs";
import type { KafkaConfig } from "../../../config/load.ts";
import type { Logger } from "../../../observability/logger.ts";

export type TopicSettings = Pick<KafkaConfig, "topic" | "partitions" | "replicationFactor">;

export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;

// The broker stamps each record on append, so BusRecord.timestamp is the real "accepted on the bus" time
// (freshness) and --replay-from <time> seeks by arrival, whatever the producers' clocks say.
const TOPIC_CONFIG = [{ name: "message.timestamp.type", value: "LogAppendTime" }];

/** Idempotent and safe to race with other processes: an existing topic is left as it is. */
export const ensureTopics = async (admin: Admin, cfg: TopicSettings, logger?: Logger): Promise<void> => {
  const wanted = [cfg.topic, dlqTopicOf(cfg.topic)];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: cfg.partitions,
        replicationFactor: cfg.replicationFactor,
        configEntries: TOPIC_CONFIG,
      })),
    });
    if (created) logger?.info("kafka topics created", { topics: missing, partitions: cfg.partitions });
  }
  const meta = await admin.fetchTopicMetadata({ topics: [cfg.topic] });
  const partitions = meta.topics[0]?.partitions.length ?? 0;
  if (partitions < cfg.partitions)
    logger?.warn("kafka topic has fewer partitions than configured", {
      topic: cfg.topic,
      partitions,
      configured: cfg.partitions,
    });
};

/** How many partitions the topic has (throws when the broker cannot be reached or the topic is unknown). */
export const topicPartitionCount = async (admin: Admin, topic: string): Promise<number> => {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0]?.partitions.length ?? 0;
};

/** ensureTopics until it has succeeded once, then a no-op (producer and consumer of one process share it). */
export const topicsEnsurer = (admin: Admin, cfg: TopicSettings, logger?: Logger) => {
  let done = false;
  return async (): Promise<void> => {
    if (done) return;
    await admin.connect();
    await ensureTopics(admin, cfg, logger);
    done = true;
  };
};
