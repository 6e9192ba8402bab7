// Producer role: the ingest API in front of the log bus.

import type { Config } from "../config/load.ts";
import { DEFAULT_EVENT_LIMITS } from "../domain/log-event.ts";
import { createProducerApp } from "../http/producer-app.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogPublisher } from "../ports/log-bus.ts";
import { createIngest } from "../services/ingest.ts";
import { createRateLimitGuards } from "../http/rate-limit.ts";
import { remoteAddress } from "./remote.ts";
import { type Served, serve } from "./serve.ts";

export interface ProducerParts {
  publisher: LogPublisher;
  metrics: Metrics | undefined;
  logger: Logger;
}

export const buildProducerApp = (config: Config, parts: ProducerParts) => {
  const { metrics, logger } = parts;
  const ingest = createIngest({
    publisher: parts.publisher,
    limits: {
      ...DEFAULT_EVENT_LIMITS,
      maxMessageBytes: config.ingest.maxMessageBytes,
      maxMetadataBytes: config.ingest.maxMetadataBytes,
    },
    maxBatchEvents: config.ingest.maxBatchEvents,
    observer: {
      accepted: (n) => metrics?.ingestionTotal.inc({ status: "accepted" }, n),
      rejected: (n) => metrics?.ingestionTotal.inc({ status: "rejected" }, n),
      failed: (n) => metrics?.ingestionTotal.inc({ status: "failed" }, n),
    },
    onAsyncFailure: (error, count) => logger.error("async publish failed", { error, count }),
  });
  return createProducerApp({
    ingest,
    health: () => parts.publisher.health(),
    apiKeys: config.ingest.apiKeys,
    maxBodyBytes: config.ingest.maxBodyBytes,
    logger,
    ...(metrics ? { metrics } : {}),
    metricsExposure: { enabled: config.metrics.enabled },
    guards: createRateLimitGuards(config.ingest.rateLimit, metrics),
    remoteAddress,
  });
};

export const startProducer = async (config: Config, parts: ProducerParts): Promise<Served> => {
  await parts.publisher.start();
  const app = buildProducerApp(config, parts);
  return serve(app, {
    host: config.host,
    port: config.ports.producer,
    maxBodyBytes: config.ingest.maxBodyBytes,
    logger: parts.logger,
    name: "producer",
  });
};
