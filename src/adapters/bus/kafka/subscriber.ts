// LogSubscriber on Kafka: a consumer group feeding merged batches to the handler, committing only after it resolved.

import type { Admin, Kafka } from "kafkajs";
import type { KafkaConfig } from "../../../config/load.ts";
import type { Position } from "../../../domain/offsets.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { Metrics } from "../../../observability/metrics.ts";
import type { BatchHandler, DeadLetter, Health, LogSubscriber } from "../../../ports/log-bus.ts";
import { recordsEvents } from "../record-bytes.ts";
import { BatchMerger } from "./batch-merger.ts";
import { createKafkaClient } from "./client.ts";
import {
  type BatchSource,
  consumeBatch,
  loadStartOffsets,
  type PartitionPositions,
} from "./consume-batch.ts";
import { ConsumerLoop } from "./consumer-loop.ts";
import { DeadLetterSender } from "./dead-letters.ts";
import { PartitionLanes } from "./lanes.ts";
import {
  createLagReader,
  prepareReplay,
  type ReplayFrom,
  type ReplayPlan,
  type ReplayProgress,
  replayProgress,
} from "./offsets.ts";
import { PartitionLogs } from "./partition-logs.ts";
import { createHealthProbe, type HealthProbe } from "./probe.ts";
import { type BackoffPolicy, backoffDelay, errorMessage } from "./timing.ts";
import { topicPartitionCount, topicsEnsurer } from "./topics.ts";

export interface KafkaSubscriberOptions {
  logger: Logger;
  /** Defaults to cfg.group, or `${cfg.group}-replay-<now>` when replayFrom is set. */
  groupId?: string;
  /**
   * Where a group without committed offsets starts. Default true: a new group (first deploy, renamed group)
   * must not skip what producers accepted before it joined; the store dedupes anything read twice.
   */
  fromBeginning?: boolean;
  /** Re-read the topic from the beginning or from the first record appended at/after this epoch ms. */
  replayFrom?: ReplayFrom;
  /** Most records per handler call (default 5000). */
  maxBatch?: number;
  /** Most record bytes in one handler batch (CONSUMER_BATCH_BYTES). */
  maxBatchBytes?: number;
  /** Where the store left each partition (LogWriter.committedPositions): records handled before are skipped. */
  startOffsets?: () => Promise<Map<number, Position>>;
  metrics?: Pick<Metrics, "consumptionErrors" | "recordsExpired">;
  /** Redelivery delay after the handler failed: doubles per consecutive failure, with jitter. */
  retryBackoff?: BackoffPolicy;
  /** How long a batch waits for the other partitions' records of the same fetch (default 2 ms). */
  lingerMs?: number;
}

const ADMIN_TIMEOUT_MS = 5000;
const LAG_TTL_MS = 2000;

export class KafkaSubscriber implements LogSubscriber {
  readonly topic: string;
  readonly groupId: string;
  private readonly sessionTimeoutMs: number;
  private readonly logger: Logger;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly dlq: DeadLetterSender;
  private readonly ensureTopics: () => Promise<void>;
  private readonly probe: HealthProbe;
  private readonly lagReader: () => Promise<Map<number, number>>;
  private readonly abort = new AbortController();
  private readonly positions: PartitionPositions = new Map();
  private readonly partitionLogs: PartitionLogs;
  private lanes: PartitionLanes | undefined;
  private loop: ConsumerLoop | undefined;
  private stopping = false;
  private state: Health = { ok: false, detail: "not running" };
  private plan: ReplayPlan | undefined;
  private startOffsets: Promise<Map<number, Position>> | undefined;
  private consumed = 0;

  constructor(
    cfg: KafkaConfig,
    private readonly opts: KafkaSubscriberOptions,
  ) {
    this.topic = cfg.topic;
    this.sessionTimeoutMs = cfg.sessionTimeoutMs;
    this.groupId =
      opts.groupId ?? (opts.replayFrom === undefined ? cfg.group : `${cfg.group}-replay-${Date.now()}`);
    this.logger = opts.logger.child({ component: "kafka-subscriber", topic: cfg.topic, group: this.groupId });
    this.kafka = createKafkaClient(cfg, this.logger, {
      onTopicMissing: () => this.partitionLogs.doubtAll(),
      onOffsetReset: () => {
        const load = this.opts.startOffsets;
        if (load) void this.partitionLogs.countExpired(loadStartOffsets(load, this.logger, ADMIN_TIMEOUT_MS));
      },
    });
    this.admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200 } });
    this.partitionLogs = new PartitionLogs({
      admin: this.admin,
      topic: this.topic,
      logger: this.logger,
      timeoutMs: ADMIN_TIMEOUT_MS,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
    });
    this.ensureTopics = topicsEnsurer(this.admin, cfg, this.logger);
    this.dlq = new DeadLetterSender(this.kafka, cfg, this.logger, this.ensureTopics);
    this.probe = createHealthProbe(this.admin, cfg.topic, ADMIN_TIMEOUT_MS);
    this.lagReader = createLagReader(this.admin, this.groupId, this.topic, LAG_TTL_MS, ADMIN_TIMEOUT_MS);
  }

  async start(): Promise<void> {
    this.dlq.start();
  }

  /**
   * Resolves after the first attempt to join the group; if the broker is down it keeps trying in the
   * background. Several handlers are lanes: each gets batches of its own partitions and they write
   * concurrently (a partition's records go to one lane at a time, see PartitionLanes).
   */
  async run(handlers: BatchHandler | readonly BatchHandler[]): Promise<void> {
    if (this.lanes) throw new Error("kafka subscriber already running");
    const all = Array.isArray(handlers) ? handlers : [handlers as BatchHandler];
    const retryBackoff = this.opts.retryBackoff ?? { initialMs: 200, maxMs: 30_000 };
    const maxBatch = this.opts.maxBatch ?? 5000;
    // Commit failures are logged, not fatal: the store holds the offsets too, and a redelivery is deduped.
    const commit = async (next: Map<number, string>): Promise<void> => {
      try {
        await this.loop?.commit(next);
      } catch (error) {
        this.opts.metrics?.consumptionErrors.inc({ reason: "commit" });
        this.logger.warn("kafka offset commit failed", { error: errorMessage(error) });
      }
    };
    // One lane: two batches wait while one is written, enough to bridge a fetch and little enough to bound
    // memory. Several: one waits per lane (to be prepared while the lane writes), each lane's writes being
    // bridged by the others'.
    const waits = all.length === 1 ? 2 : 1;
    const lanes: PartitionLanes = new PartitionLanes(
      all.map(
        (handler) =>
          new BatchMerger({
            topic: this.topic,
            maxBatch,
            capacity: waits * maxBatch,
            ...(this.opts.maxBatchBytes
              ? { maxBatchBytes: this.opts.maxBatchBytes, capacityBytes: waits * this.opts.maxBatchBytes }
              : {}),
            lingerMs: this.opts.lingerMs ?? 2,
            handler,
            onStored: async (batch, next) => {
              for (const [partition, offset] of next) this.positions.set(partition, offset);
              this.consumed += recordsEvents(batch.records);
              await commit(next);
              lanes.stored(batch);
            },
            retryDelay: (failures) => backoffDelay(failures, retryBackoff),
            onFailure: (error, retryInMs) => {
              this.logger.warn("batch handler failed; it will be handed over again", {
                error: errorMessage(error),
                retryInMs,
              });
              this.opts.metrics?.consumptionErrors.inc({ reason: "handler" });
            },
          }),
      ),
    );
    this.lanes = lanes;
    const source: BatchSource = {
      lanes,
      maxBatch,
      signal: this.abort.signal,
      positions: this.positions,
      startOffsets: () => this.startOffsets,
      logs: this.partitionLogs.logs,
      doubted: this.partitionLogs.doubted,
      verify: (partition, last) => this.partitionLogs.stillHolds(partition, last),
      rewind: async (partition) => {
        this.positions.delete(partition);
        this.loop?.seek(partition, await this.partitionLogs.firstOffset(partition));
      },
      commit,
      logger: this.logger,
    };
    const { startOffsets } = this.opts;
    this.loop = new ConsumerLoop({
      kafka: this.kafka,
      groupId: this.groupId,
      topic: this.topic,
      sessionTimeoutMs: this.sessionTimeoutMs,
      fromBeginning: this.opts.fromBeginning ?? true,
      logger: this.logger,
      prepare: () => this.prepare(),
      eachBatch: async (payload) => {
        if (this.stopping) payload.pause();
        else await consumeBatch(payload, source);
      },
      onState: (state) => {
        if (!this.stopping) this.state = state;
      },
      onJoin: () => {
        if (!startOffsets) return;
        this.startOffsets = loadStartOffsets(startOffsets, this.logger, ADMIN_TIMEOUT_MS);
        void this.partitionLogs.countExpired(this.startOffsets);
      },
      onCrash: () => this.opts.metrics?.consumptionErrors.inc({ reason: "crash" }),
    });
    await this.loop.start();
  }

  /** Lets the handler call in flight finish (and commit), drops what waits, leaves the group, disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await Promise.all(this.lanes?.mergers.map((m) => m.close()) ?? []);
    this.lanes?.clear();
    await this.loop?.stop();
    await this.dlq.stop();
    await this.admin.disconnect();
    this.state = { ok: false, detail: "stopped" };
  }

  /** Sends the original bytes to `<topic>.dlq` with the reason in headers; resolves once acked by all replicas. */
  deadLetter(letters: DeadLetter[]): Promise<void> {
    return this.dlq.send(letters);
  }

  async health(): Promise<Health> {
    if (!this.state.ok) return this.state;
    const broker = await this.probe();
    return broker.ok ? { ok: true, detail: `${this.state.detail}; ${broker.detail}` } : broker;
  }

  /** Messages behind the head per partition (high watermark − committed offset), cached for 2 s. */
  lag(): Promise<Map<number, number>> {
    return this.lagReader();
  }

  /** For --replay-from: records handled so far, positions, and the end offsets the replay runs to. */
  progress(): ReplayProgress {
    return replayProgress(this.plan, this.positions, this.consumed);
  }

  /** Before each consumer start: topics exist, a replay is positioned (once); returns the partition count. */
  private async prepare(): Promise<number> {
    await this.ensureTopics();
    const partitions = await topicPartitionCount(this.admin, this.topic);
    if (this.opts.replayFrom !== undefined && !this.plan) {
      this.plan = await prepareReplay(this.admin, this.groupId, this.topic, this.opts.replayFrom);
      this.logger.info("replay positioned", {
        start: Object.fromEntries(this.plan.start),
        end: Object.fromEntries(this.plan.end),
      });
    }
    return Math.max(1, partitions);
  }
}

export const createKafkaSubscriber = (cfg: KafkaConfig, opts: KafkaSubscriberOptions): KafkaSubscriber =>
  new KafkaSubscriber(cfg, opts);
