// Consumer role: bus → store in batches, exactly once in effect; health and metrics on CONSUMER_PORT.

import type { Config } from "../config/load.ts";
import { createConsumerApp } from "../http/consumer-app.ts";
import { apiKeyAuth } from "../http/middleware.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogSubscriber } from "../ports/log-bus.ts";
import type { BatchWriter, LogWriter } from "../ports/log-store.ts";
import { createPersister, type PersistObserver } from "../services/persist.ts";
import { remoteAddress } from "./remote.ts";
import { serve } from "./serve.ts";

export interface ConsumerParts {
  subscriber: LogSubscriber;
  writer: LogWriter;
  group: string;
  metrics: Metrics | undefined;
  logger: Logger;
  /** Batches written at once, each of its own partitions (CONSUMER_WRITERS; 1 on a bus without partitions). */
  lanes?: number;
  /** Skip the HTTP surface (replay runs). */
  http?: boolean;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

export const startConsumer = async (config: Config, parts: ConsumerParts): Promise<RunningConsumer> => {
  const { metrics, logger, subscriber, writer } = parts;
  await writer.start();
  await subscriber.start();
  const observer: PersistObserver = {
    consumed: (n) => metrics?.consumed.inc(n),
    stored: (inserted, duplicates, seconds, size) => {
      metrics?.stored.inc(inserted);
      metrics?.duplicates.inc(duplicates);
      metrics?.processingDuration.observe(seconds);
      metrics?.batchSize.observe(size);
    },
    deadLettered: (reason, n) => {
      metrics?.dlq.inc({ reason }, n);
      logger.warn("message dead-lettered", { reason, count: n });
    },
    freshness: (s) => metrics?.freshness.observe(Math.max(0, s)),
    shrunk: (eventsPerWrite) =>
      logger.warn("store write timed out; retrying the batch in smaller writes", { eventsPerWrite }),
  };
  // The first lane writes with the writer itself; the others with lanes of it, on connections of their own.
  const writers: BatchWriter[] = [writer];
  while (writer.lane && writers.length < (parts.lanes ?? 1)) writers.push(writer.lane());
  const handlers = writers.map((laneWriter) => {
    const persist = createPersister({ writer: laneWriter, subscriber, group: parts.group, observer });
    return Object.assign(
      async (batch: Parameters<typeof persist>[0]) => {
        try {
          await persist(batch);
        } catch (error) {
          metrics?.consumptionErrors.inc({ reason: "store" });
          logger.warn("batch not stored; it will be retried", { error, records: batch.records.length });
          throw error;
        }
      },
      { prepare: persist.prepare },
    );
  });
  await subscriber.run(handlers);

  const lagTimer = setInterval(() => {
    subscriber
      .lag()
      .then((lag) => {
        for (const [partition, n] of lag) metrics?.lag.set({ partition: String(partition) }, n);
      })
      .catch((error: unknown) => logger.debug("lag unavailable", { error }));
  }, 5000);

  const served =
    parts.http === false
      ? undefined
      : serve(
          createConsumerApp({
            health: async () => {
              const [bus, store] = await Promise.all([subscriber.health(), writer.health()]);
              return { ok: bus.ok && store.ok, components: { kafka: bus, postgres: store } };
            },
            logger,
            ...(metrics ? { metrics } : {}),
            // The consumer serves no data, so either role's keys may read its metrics.
            metricsExposure: {
              enabled: config.metrics.enabled,
              ...(config.metrics.requireKey
                ? { guard: apiKeyAuth([...config.ingest.apiKeys, ...config.query.apiKeys], remoteAddress) }
                : {}),
            },
          }),
          { host: config.host, port: config.ports.consumer, logger, name: "consumer" },
        );

  return {
    stop: async () => {
      clearInterval(lagTimer);
      await served?.stop();
      await subscriber.stop();
      await writer.stop();
    },
  };
};
