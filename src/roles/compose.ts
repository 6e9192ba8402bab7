// The composition root: builds the adapters for the configuration and starts the chosen roles.

import { isLoopback, keyAdvice } from "../config/exposure.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics, type Metrics } from "../observability/metrics.ts";
import { createCache, createStack, type Stack } from "./adapters.ts";
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

/** Anyone who reaches a non-loopback address can use a role without keys: say so loudly, once, at start. */
export const warnIfExposed = (config: Config, logger: Logger): void => {
  if (isLoopback(config.host) || config.openRoles.length === 0) return;
  logger.warn(
    `listening on ${config.host} without API keys: anyone who can reach this address can use ${config.openRoles.join(", ")}`,
    {
      host: config.host,
      openRoles: config.openRoles,
      fix: `set ${keyAdvice(config.openRoles)}, or HOST=127.0.0.1 to listen on this machine only`,
    },
  );
};

/** Migrations need the database; at startup it may still be coming up (compose, k8s), so wait a while. */
const migrateWithRetry = async (stack: Stack, logger: Logger, deadlineMs = 60_000): Promise<void> => {
  const until = Date.now() + deadlineMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await stack.migrate();
      return;
    } catch (error) {
      if (Date.now() > until) throw error;
      logger.warn("database not ready; retrying migrations", { error, retryInMs: delay });
      await Bun.sleep(delay);
    }
  }
};

const HOUR = 3_600_000;

const retention = (stack: Stack, days: number, logger: Logger): (() => void) => {
  if (days <= 0) return () => {};
  const run = () =>
    stack
      .retain(days)
      .then((dropped) => {
        if (dropped.length) logger.info("retention removed old events", { dropped, days });
      })
      .catch((error: unknown) => logger.warn("retention failed; will retry", { error }));
  void run();
  const timer = setInterval(run, HOUR);
  return () => clearInterval(timer);
};

export const startRoles = async (config: Config, logger: Logger, metrics?: Metrics): Promise<Running> => {
  const m = config.metrics.enabled ? (metrics ?? createMetrics()) : undefined;
  warnIfExposed(config, logger);
  const stack = createStack(config, logger, m);
  logger.info("adapters", stack.describe);
  const runs = (role: string) => config.role === "all" || config.role === role;
  const stops: (() => Promise<void>)[] = [];
  try {
    if (runs("consumer") || runs("gateway")) await migrateWithRetry(stack, logger);
    if (runs("consumer")) {
      const log = logger.child({ role: "consumer" });
      const consumer = await startConsumer(config, { ...stack, metrics: m, logger: log });
      const stopRetention = retention(stack, config.consumer.retentionDays, log);
      stops.push(async () => {
        stopRetention();
        await consumer.stop();
      });
    }
    if (runs("gateway")) {
      const log = logger.child({ role: "gateway" });
      const gateway = await startGateway(config, {
        reader: stack.reader,
        cache: createCache(config, m, log),
        metrics: m,
        logger: log,
      });
      stops.push(() => gateway.stop());
    }
    if (runs("producer")) {
      const producer = await startProducer(config, {
        publisher: stack.publisher,
        metrics: m,
        logger: logger.child({ role: "producer" }),
      });
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
    // Reverse order: stop accepting HTTP and flush the producer, then the consumer commits, then stores close.
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
