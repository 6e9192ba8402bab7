// The one place that picks each port's adapter (bus, store, cache): the real service when it is configured,
// the embedded one otherwise.

import { join } from "node:path";
import { createKafkaPublisher, createKafkaSubscriber } from "../adapters/bus/kafka/index.ts";
import { MemoryBus } from "../adapters/bus/memory.ts";
import { breakerGaugeValue, GuardedCache } from "../adapters/cache/guarded.ts";
import { LayeredCache } from "../adapters/cache/layered.ts";
import { MemoryCache } from "../adapters/cache/memory.ts";
import { RedisCache } from "../adapters/cache/redis.ts";
import { createPostgresStore } from "../adapters/store/postgres/store.ts";
import { createSqliteStore } from "../adapters/store/sqlite.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogPublisher, LogSubscriber } from "../ports/log-bus.ts";
import type { LogReader, LogWriter } from "../ports/log-store.ts";
import type { QueryCache } from "../ports/query-cache.ts";

export interface Stack {
  publisher: LogPublisher;
  subscriber: LogSubscriber;
  writer: LogWriter;
  reader: LogReader;
  group: string;
  /** Batches the consumer writes at once (CONSUMER_WRITERS on Kafka, whose partitions they divide; else 1). */
  lanes: number;
  /** Applies the store's migrations (a no-op for SQLite, whose schema is created on open). */
  migrate(): Promise<void>;
  /** Drops stored events older than `days` (whole daily partitions on PostgreSQL, row chunks on SQLite). */
  retain(days: number): Promise<string[]>;
  describe: { bus: string; store: string };
}

export interface StackOptions {
  /** Rebuild into this PostgreSQL schema from the topic (replay) instead of following the live group. */
  replay?: { from: "earliest" | number; schema: string };
}

export const createStack = (
  config: Config,
  logger: Logger,
  metrics: Metrics | undefined,
  opts: StackOptions = {},
): Stack => {
  const group = config.kafka?.group ?? "log-consumer-group";
  let writer: LogWriter;
  let reader: LogReader;
  let migrate = async (): Promise<void> => {};
  if (config.postgres) {
    const store = createPostgresStore(config.postgres, {
      logger: logger.child({ component: "postgres" }),
      ...(opts.replay ? { schema: opts.replay.schema } : {}),
    });
    writer = store.writer;
    reader = store.reader;
    migrate = store.migrate;
  } else {
    const store = createSqliteStore(join(config.dataDir, "logproc.sqlite"));
    writer = store.writer;
    reader = store.reader;
  }

  const retain = (days: number) => writer.retain(days);

  if (config.kafka) {
    const kafka = config.kafka;
    // The producer's sends are measured by the guard around it; the adapter must not count them twice.
    const publisher = createKafkaPublisher(kafka, { logger: logger.child({ component: "kafka-producer" }) });
    const groupId = opts.replay ? `${kafka.group}-replay-${opts.replay.schema}-${Date.now()}` : kafka.group;
    const subscriber = createKafkaSubscriber(kafka, {
      logger: logger.child({ component: "kafka-consumer" }),
      groupId,
      maxBatch: config.consumer.batchSize,
      maxBatchBytes: config.consumer.batchBytes,
      ...(metrics ? { metrics } : {}),
      ...(opts.replay ? { replayFrom: opts.replay.from } : {}),
      // Offsets kept in the store (same transaction as the rows) are consulted on every group join, so a
      // crash between the store commit and the Kafka commit neither skips nor doubles anything.
      startOffsets: () => writer.committedPositions(groupId, kafka.topic),
    });
    return {
      publisher,
      subscriber,
      writer,
      reader,
      group: subscriber.groupId,
      lanes: config.consumer.writers,
      migrate,
      retain,
      describe: { bus: "kafka", store: config.postgres ? "postgres" : "sqlite" },
    };
  }
  const bus = new MemoryBus({
    topic: "log-events",
    maxBatch: config.consumer.batchSize,
    maxBatchBytes: config.consumer.batchBytes,
  });
  return {
    publisher: bus,
    subscriber: bus,
    writer,
    reader,
    group,
    lanes: 1,
    migrate,
    retain,
    describe: { bus: "in-process", store: config.postgres ? "postgres" : "sqlite" },
  };
};

export interface CacheTuning {
  /** Redis key namespace (tests isolate themselves with it). */
  keyPrefix?: string;
  /** Per-command deadline for Redis; past it the query is answered from the store. */
  timeoutMs?: number;
}

/**
 * Redis when REDIS_URL/REDIS_HOST is set: guarded by a timeout and a circuit breaker (a slow or dead Redis
 * is bypassed, never a 5xx), behind a small in-process L1 whose entries live at most the live bound.
 * Otherwise the embedded in-memory cache. Nothing connects until start().
 */
export const createCache = (
  config: Config,
  metrics: Metrics | undefined,
  logger: Logger,
  tuning: CacheTuning = {},
): QueryCache => {
  if (!config.redis) return new MemoryCache();
  const timeoutMs = tuning.timeoutMs ?? 250;
  const redis = new RedisCache(config.redis, {
    ...(tuning.keyPrefix ? { keyPrefix: tuning.keyPrefix } : {}),
    commandTimeoutMs: timeoutMs,
    logger,
  });
  metrics?.breakerState.set({ name: "redis" }, 0);
  const guarded = new GuardedCache(redis, {
    timeoutMs: timeoutMs + 50,
    onStateChange: (state) => {
      metrics?.breakerState.set({ name: "redis" }, breakerGaugeValue(state));
      if (state === "open") logger.warn("redis circuit open: queries bypass the cache");
      else if (state === "closed") logger.info("redis circuit closed: cache in use again");
    },
  });
  // An L1 copy lives as long as its writer allowed (keys carry the watermark: an entry never changes).
  return new LayeredCache(guarded, { l1TtlMs: config.query.cacheTtlMs, maxEntries: 1000 });
};
