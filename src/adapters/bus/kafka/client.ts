// Builds a kafkajs client from KafkaConfig (TLS with an optional CA file, SASL plain/scram) logging through our logger.

import { readFileSync } from "node:fs";
import { Kafka, type LogEntry, logLevel, type RetryOptions, type SASLOptions } from "kafkajs";
import type { KafkaConfig } from "../../../config/load.ts";
import type { Logger } from "../../../observability/logger.ts";
import "./zstd.ts";

export interface ClientTuning {
  /** How long one broker request may take before kafkajs fails it (and maybe retries). */
  requestTimeout?: number;
  connectionTimeout?: number;
  /** kafkajs' own retries per operation; our loops retry beyond them with backoff. */
  retry?: RetryOptions;
  /** A broker answered that it does not host a topic-partition (deleted, or not yet known to it). */
  onTopicMissing?: () => void;
  /** A consumer's position was past the partition's records (removed by retention): kafkajs moved it. */
  onOffsetReset?: () => void;
}

const saslOf = (cfg: KafkaConfig): SASLOptions | undefined => {
  const s = cfg.sasl;
  if (!s) return undefined;
  switch (s.mechanism) {
    case "plain":
      return { mechanism: "plain", username: s.username, password: s.password };
    case "scram-sha-256":
      return { mechanism: "scram-sha-256", username: s.username, password: s.password };
    case "scram-sha-512":
      return { mechanism: "scram-sha-512", username: s.username, password: s.password };
  }
};

const sslOf = (cfg: KafkaConfig) => {
  if (!cfg.ssl) return undefined;
  return cfg.sslCa ? { ca: [readFileSync(cfg.sslCa, "utf8")] } : true;
};

// kafkajs errors become our warnings and its info our debug. Some of its errors are expected and reported by
// us once per state change instead: retries limited on purpose (producer-slot.ts), every failed connection
// attempt and consumer crash during an outage, topic creation racing another process.
const EXPECTED = [
  /^Limiting retries for the idempotent producer/,
  /^Connection error/,
  /^Failed to connect to seed broker/,
  /^Crash: /,
  /^Restarting the consumer/,
];
const isExpected = (entry: LogEntry): boolean =>
  EXPECTED.some((re) => re.test(entry.log.message)) || entry.log.error === "Topic creation errors";

// kafkajs reports these only in its log: a fetch of a partition the broker does not host (UNKNOWN_TOPIC_OR_PARTITION,
// kafkajs/src/protocol/error.js), after which a consumer keeps its positions and fetches on when the topic
// comes back; and a position out of range, which its consumer moves to the default offset (consumerGroup.js).
const TOPIC_MISSING = "This server does not host this topic-partition";
const OFFSET_RESET = "Offset out of range, resetting to default offset";

const logCreator = (logger: Logger, tuning: ClientTuning) => () => (entry: LogEntry) => {
  const { message, timestamp: _t, stack: _s, logger: _l, ...rest } = entry.log;
  if (entry.log.error === TOPIC_MISSING) tuning.onTopicMissing?.();
  if (message === OFFSET_RESET) tuning.onOffsetReset?.();
  const fields = { kafka: entry.namespace, ...rest };
  switch (isExpected(entry) ? logLevel.DEBUG : entry.level) {
    case logLevel.ERROR:
    case logLevel.WARN:
      logger.warn(`kafkajs: ${message}`, fields);
      break;
    default:
      logger.debug(`kafkajs: ${message}`, fields);
  }
};

export const createKafkaClient = (cfg: KafkaConfig, logger: Logger, tuning: ClientTuning = {}): Kafka =>
  new Kafka({
    clientId: cfg.clientId,
    brokers: [...cfg.brokers],
    ssl: sslOf(cfg),
    sasl: saslOf(cfg),
    connectionTimeout: tuning.connectionTimeout ?? 3000,
    requestTimeout: tuning.requestTimeout ?? 30_000,
    enforceRequestTimeout: true,
    retry: tuning.retry ?? { initialRetryTime: 100, retries: 2, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: logCreator(logger.child({ component: "kafkajs" }), tuning),
  });
