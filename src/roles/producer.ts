// Producer role: the ingest API in front of the log bus, which is guarded by a timeout and a circuit breaker.

import { CoalescingPublisher } from "../adapters/bus/coalescing-publisher.ts";
import { type GuardOptions, guardPublisher } from "../adapters/bus/guarded-publisher.ts";
import { MAX_REQUEST_BYTES } from "../adapters/bus/kafka/messages.ts";
import { type RetryOptions, retryingPublish } from "../adapters/bus/retry-publish.ts";
import type { Config } from "../config/load.ts";
import { DEFAULT_EVENT_LIMITS, type LogEvent } from "../domain/log-event.ts";
import { apiKeyAuth } from "../http/middleware.ts";
import { createProducerApp } from "../http/producer-app.ts";
import { createRateLimiter } from "../http/rate-limit.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogPublisher } from "../ports/log-bus.ts";
import { createIngest } from "../services/ingest.ts";
import { startSyslog } from "../syslog/server.ts";
import { remoteAddress, requestAddress } from "./remote.ts";
import { type Served, serve } from "./serve.ts";

export interface ProducerParts {
  /** The raw bus publisher; the role guards it. Starting and stopping it is the caller's job. */
  publisher: LogPublisher;
  metrics: Metrics | undefined;
  logger: Logger;
  /** Overrides of the guard's defaults (tests use short breaks). */
  guard?: Partial<Pick<GuardOptions, "timeoutMs" | "failureThreshold" | "halfOpenAfterMs">>;
  /** Overrides of the async endpoint's backoff (tests use short waits). */
  asyncRetry?: Omit<RetryOptions, "attempts">;
}

/**
 * A publish's bound grows with its size, one KAFKA_SEND_TIMEOUT_MS per produce request it needs (the Kafka
 * adapter bounds each request itself). The size is estimated from the messages and a generous allowance for
 * the rest of each record; metadata is not serialized twice for it.
 */
const RECORD_ALLOWANCE_BYTES = 512;
const sendsFor = (events: LogEvent[]): number => {
  let bytes = 0;
  for (const e of events) bytes += e.message.length + e.source.length + RECORD_ALLOWANCE_BYTES;
  return bytes / MAX_REQUEST_BYTES;
};

/** KAFKA_SEND_TIMEOUT_MS's default, for the in-process bus that has no Kafka settings. */
const DEFAULT_SEND_TIMEOUT_MS = 1500;
/** The Kafka adapter bounds its own sends at sendTimeoutMs and says why it failed; the guard is the backstop. */
const GUARD_GRACE_MS = 250;
/** How long a stopping producer waits for async events still retrying (main.ts exits after 30 s in all). */
export const ASYNC_DRAIN_MS = 10_000;

/**
 * Kafka: concurrent publishes share produce requests, and the in-flight limit turns a long queue into 503s
 * with Retry-After before the breaker sees it. The in-process bus already batches what waits for the store.
 */
const guardedBus = (config: Config, parts: ProducerParts) => {
  const { metrics, logger } = parts;
  const timeoutMs = (config.kafka?.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS) + GUARD_GRACE_MS;
  const guarded = guardPublisher(parts.publisher, {
    timeoutMs,
    boundsFor: sendsFor,
    logger,
    name: "bus",
    ...(metrics ? { metrics } : {}),
    ...parts.guard,
  });
  if (!config.kafka) return guarded;
  return new CoalescingPublisher(guarded, {
    lingerMs: config.kafka.lingerMs,
    maxBatchEvents: config.kafka.batchMaxEvents,
    maxPendingEvents: config.ingest.maxPendingEvents,
    answerWithinMs: parts.guard?.timeoutMs ?? timeoutMs,
    ...(metrics ? { metrics } : {}),
  });
};

const assemble = (config: Config, parts: ProducerParts) => {
  const { metrics, logger } = parts;
  const publisher = guardedBus(config, parts);
  const ingest = createIngest({
    publisher,
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
      overloaded: (n) => metrics?.ingestionTotal.inc({ status: "overloaded" }, n),
    },
    // The retries go through the guard (and the shared sends in front of it): while its circuit is open they
    // fail at once and wait out the backoff.
    publishAsync: retryingPublish(publisher, {
      attempts: config.ingest.asyncAttempts,
      ...parts.asyncRetry,
    }),
    maxAsyncPending: config.ingest.asyncMaxPending,
    onAsyncPending: (n) => metrics?.asyncPending.set(n),
    onAsyncFailure: (error, events) => {
      metrics?.asyncDropped.inc(events.length);
      logger.error("async events dropped: the bus did not take them after every retry", {
        ids: events.map((e) => e.id),
        attempts: config.ingest.asyncAttempts,
        error,
      });
    },
  });
  const rateLimit = createRateLimiter(config.ingest.rateLimit, metrics);
  const app = createProducerApp({
    ingest,
    health: () => publisher.health(),
    apiKeys: config.ingest.apiKeys,
    maxBodyBytes: config.ingest.maxBodyBytes,
    maxEventBytes: config.ingest.maxEventBytes,
    maxBatchEvents: config.ingest.maxBatchEvents,
    logger,
    ...(metrics ? { metrics } : {}),
    metricsExposure: {
      enabled: config.metrics.enabled,
      ...(config.metrics.requireKey ? { guard: apiKeyAuth(config.ingest.apiKeys, remoteAddress) } : {}),
    },
    ...(rateLimit ? { rateLimit } : {}),
    remoteAddress: requestAddress,
    elasticsearchVersion: config.protocols.elasticsearchVersion,
  });
  return { app, ingest };
};

export const buildProducerApp = (config: Config, parts: ProducerParts) => assemble(config, parts).app;

export const startProducer = async (config: Config, parts: ProducerParts): Promise<Served> => {
  await parts.publisher.start();
  const { app, ingest } = assemble(config, parts);
  const syslogSettings = config.protocols.syslog;
  const syslog = syslogSettings
    ? await startSyslog(
        { host: config.host, ...syslogSettings },
        { ingest, logger: parts.logger, ...(parts.metrics ? { metrics: parts.metrics } : {}) },
      )
    : undefined;
  const served = serve(app, {
    host: config.host,
    port: config.ports.producer,
    maxBodyBytes: config.ingest.maxBodyBytes,
    logger: parts.logger,
    name: "producer",
  });
  return {
    port: served.port,
    // Stop taking requests, then let the events already answered 202 reach the bus before it is stopped;
    // those still waiting past the bound are counted as dropped, within the process's shutdown bound.
    stop: async () => {
      await served.stop();
      await syslog?.stop();
      await ingest.drain(ASYNC_DRAIN_MS);
    },
  };
};
