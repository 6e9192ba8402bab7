// LogPublisher on Kafka: idempotent acks=all producer keyed by source, every publish bounded by sendTimeoutMs.

import { CompressionTypes } from "kafkajs";
import type { KafkaConfig } from "../../../config/load.ts";
import { DomainError } from "../../../domain/errors.ts";
import type { LogEvent } from "../../../domain/log-event.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { Metrics } from "../../../observability/metrics.ts";
import type { Health, LogPublisher } from "../../../ports/log-bus.ts";
import { createKafkaClient } from "./client.ts";
import { chunkBySize, MAX_REQUEST_BYTES, packRecords } from "./messages.ts";
import { createHealthProbe, type HealthProbe } from "./probe.ts";
import { ProducerSlot } from "./producer-slot.ts";
import { DeadlineError, errorMessage } from "./timing.ts";
import { ensureTopics } from "./topics.ts";

export interface KafkaPublisherDeps {
  logger: Logger;
  metrics?: Pick<Metrics, "kafkaSent" | "kafkaSendDuration">;
  /** Most encoded bytes per producer request (see chunkBySize); a bigger publish is split, in order. */
  maxRequestBytes?: number;
}

/** KAFKA_COMPRESSION: zstd by default (docs/architecture.md, "Records on the topic"). */
const CODECS: Record<KafkaConfig["compression"], CompressionTypes> = {
  zstd: CompressionTypes.ZSTD,
  gzip: CompressionTypes.GZIP,
  none: CompressionTypes.None,
};

export class KafkaPublisher implements LogPublisher {
  readonly topic: string;
  private readonly slot: ProducerSlot;
  private readonly probe: HealthProbe;
  private readonly stopAdmin: () => Promise<void>;
  private readonly compression: CompressionTypes;
  private readonly maxRequestBytes: number;

  constructor(
    private readonly cfg: KafkaConfig,
    private readonly deps: KafkaPublisherDeps,
  ) {
    this.topic = cfg.topic;
    const logger = deps.logger.child({ component: "kafka-publisher", topic: cfg.topic });
    const kafka = createKafkaClient(cfg, logger, {
      requestTimeout: Math.max(cfg.sendTimeoutMs, 1000),
      connectionTimeout: Math.min(Math.max(cfg.sendTimeoutMs, 1000), 3000),
    });
    const admin = kafka.admin({ retry: { retries: 1, initialRetryTime: 100 } });
    this.stopAdmin = () => admin.disconnect();
    this.slot = new ProducerSlot({
      kafka,
      logger,
      prepare: async () => {
        await admin.connect();
        await ensureTopics(admin, cfg, logger);
      },
    });
    this.probe = createHealthProbe(admin, cfg.topic, Math.max(cfg.sendTimeoutMs, 1000));
    this.compression = CODECS[cfg.compression];
    this.maxRequestBytes = deps.maxRequestBytes ?? MAX_REQUEST_BYTES;
  }

  /** Never fails for an unreachable broker: connecting and creating topics go on in the background. */
  async start(): Promise<void> {
    this.slot.start();
  }

  /** Waits for in-flight sends (kafkajs does not buffer, so nothing else needs flushing) and disconnects. */
  async stop(): Promise<void> {
    await this.slot.stop();
    await this.stopAdmin();
  }

  async publish(events: LogEvent[]): Promise<void> {
    if (events.length === 0) return;
    const started = performance.now();
    const messages = packRecords(events, this.cfg.recordMaxEvents);
    try {
      // Chunks go one after another so that a source's events keep their order across chunks. Each has
      // sendTimeoutMs of its own: a bus that is down fails the first at once, a large publish that makes
      // progress is not cut off part way.
      for (const chunk of chunkBySize(messages, this.maxRequestBytes)) {
        const deadline = Date.now() + this.cfg.sendTimeoutMs;
        await this.slot.send(
          {
            topic: this.topic,
            acks: -1,
            timeout: this.cfg.sendTimeoutMs,
            compression: this.compression,
            messages: chunk,
          },
          deadline,
        );
      }
      this.deps.metrics?.kafkaSent.inc({ result: "ok" }, events.length);
    } catch (error) {
      this.deps.metrics?.kafkaSent.inc(
        { result: error instanceof DeadlineError ? "timeout" : "error" },
        events.length,
      );
      throw new DomainError("unavailable", `event bus unavailable: ${errorMessage(error)}`, {
        retryAfter: 1,
      });
    } finally {
      this.deps.metrics?.kafkaSendDuration.observe((performance.now() - started) / 1000);
    }
  }

  async health(): Promise<Health> {
    if (!this.slot.ready) return { ok: false, detail: `kafka producer not connected: ${this.slot.problem}` };
    return this.probe();
  }
}

export const createKafkaPublisher = (cfg: KafkaConfig, deps: KafkaPublisherDeps): KafkaPublisher =>
  new KafkaPublisher(cfg, deps);
