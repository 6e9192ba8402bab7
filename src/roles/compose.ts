// The composition root: picks each adapter (real when configured, embedded otherwise) and starts the roles.

import { join } from "node:path";
import { MemoryBus } from "../adapters/bus/memory.ts";
import { MemoryCache } from "../adapters/cache/memory.ts";
import { createSqliteStore } from "../adapters/store/sqlite.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type Metrics } from "../observability/metrics.ts";
import { startConsumer } from "./consumer.ts";
import { startGateway } from "./gateway.ts";
import { startProducer } from "./producer.ts";

export interface Running {
  stop(): Promise<void>;
}

/** What a split role needs configured; undefined when the configuration suffices. */
export const missingServices = (config: Config): string | undefined => {
  const need: string[] = [];
  const wants = (role: string) => config.role === role;
  if ((wants("producer") || wants("consumer")) && !config.kafka) need.push("KAFKA_BOOTSTRAP_SERVERS");
  if ((wants("consumer") || wants("gateway")) && !config.postgres) need.push("POSTGRES_URL");
  return need.length
    ? `--role ${config.role} runs on real services: set ${need.join(" and ")} (or run --role all for the embedded mode)`
    : undefined;
};

const embeddedStack = (config: Config) => {
  const bus = new MemoryBus({ topic: config.kafka?.topic ?? "log-events", maxBatch: config.consumer.batchSize });
  const store = createSqliteStore(join(config.dataDir, "logproc.sqlite"));
  return { publisher: bus, subscriber: bus, writer: store.writer, reader: store.reader };
};

export const startRoles = async (config: Config, logger: Logger, metrics?: Metrics): Promise<Running> => {
  const m = config.metrics.enabled ? (metrics ?? createMetrics()) : undefined;
  const stack = embeddedStack(config);
  const cache = new MemoryCache();
  const stops: (() => Promise<void>)[] = [];
  const runs = (role: string) => config.role === "all" || config.role === role;
  try {
    if (runs("consumer")) {
      const consumer = await startConsumer(config, {
        subscriber: stack.subscriber,
        writer: stack.writer,
        group: config.kafka?.group ?? "log-consumer-group",
        metrics: m,
        logger: logger.child({ role: "consumer" }),
      });
      stops.push(() => consumer.stop());
    }
    if (runs("gateway")) {
      const gateway = await startGateway(config, { reader: stack.reader, cache, metrics: m, logger: logger.child({ role: "gateway" }) });
      stops.push(() => gateway.stop());
    }
    if (runs("producer")) {
      const producer = await startProducer(config, { publisher: stack.publisher, metrics: m, logger: logger.child({ role: "producer" }) });
      stops.push(async () => {
        await producer.stop();
        await stack.publisher.stop();
      });
    }
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw error;
  }
  return {
    // Reverse order: stop accepting HTTP, flush the producer, then the consumer commits, then stores close.
    stop: async () => {
      for (const stop of stops.reverse()) {
        try {
          await stop();
        } catch (error) {
          logger.error("error while stopping", { error });
        }
      }
    },
  };
};
