// LogSubscriber on Kafka: a consumer group feeding merged batches to the handler, committing only after it resolved.

import type { Admin, Kafka } from "kafkajs";
import type { KafkaConfig } from "../../../config/load.ts";
import {
  compareOffsets,
  lastCovered,
  offsetAfter,
  type Position,
  type Taken,
} from "../../../domain/offsets.ts";
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
  type PartitionLog,
  type PartitionPositions,
} from "./consume-batch.ts";
import { ConsumerLoop } from "./consumer-loop.ts";
import { DeadLetterSender } from "./dead-letters.ts";
import {
  createLagReader,
  prepareReplay,
  type ReplayFrom,
  type ReplayPlan,
  type ReplayProgress,
  replayProgress,
} from "./offsets.ts";
import { createHealthProbe, type HealthProbe } from "./probe.ts";
import { type BackoffPolicy, backoffDelay, errorMessage, withDeadline } from "./timing.ts";
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
  private readonly logs = new Map<number, PartitionLog>();
  private readonly doubted = new Set<number>();
  /** Per partition, the stored position whose expired records were counted (each gap counted once). */
  private readonly expired = new Map<number, string>();
  private merger: BatchMerger | undefined;
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
    // The topic gone missing may be deleted and created again: the partitions read so far are checked.
    this.kafka = createKafkaClient(cfg, this.logger, {
      onTopicMissing: () => {
        for (const partition of this.logs.keys()) this.doubted.add(partition);
      },
      onOffsetReset: () => void this.countExpired(),
    });
    this.admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 200 } });
    this.ensureTopics = topicsEnsurer(this.admin, cfg, this.logger);
    this.dlq = new DeadLetterSender(this.kafka, cfg, this.logger, this.ensureTopics);
    this.probe = createHealthProbe(this.admin, cfg.topic, ADMIN_TIMEOUT_MS);
    this.lagReader = createLagReader(this.admin, this.groupId, this.topic, LAG_TTL_MS, ADMIN_TIMEOUT_MS);
  }

  async start(): Promise<void> {
    this.dlq.start();
  }

  /** Resolves after the first attempt to join the group; if the broker is down it keeps trying in the background. */
  async run(handler: BatchHandler): Promise<void> {
    if (this.merger) throw new Error("kafka subscriber already running");
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
    this.merger = new BatchMerger({
      topic: this.topic,
      maxBatch,
      // Two batches wait while one is written: enough to bridge a fetch, little enough to bound memory.
      capacity: 2 * maxBatch,
      ...(this.opts.maxBatchBytes
        ? { maxBatchBytes: this.opts.maxBatchBytes, capacityBytes: 2 * this.opts.maxBatchBytes }
        : {}),
      lingerMs: this.opts.lingerMs ?? 2,
      handler,
      onStored: async (batch, next) => {
        for (const [partition, offset] of next) this.positions.set(partition, offset);
        this.consumed += recordsEvents(batch.records);
        await commit(next);
      },
      retryDelay: (failures) => backoffDelay(failures, retryBackoff),
      onFailure: (error, retryInMs) => {
        this.logger.warn("batch handler failed; it will be handed over again", {
          error: errorMessage(error),
          retryInMs,
        });
        this.opts.metrics?.consumptionErrors.inc({ reason: "handler" });
      },
    });
    const source: BatchSource = {
      merger: this.merger,
      maxBatch,
      signal: this.abort.signal,
      positions: this.positions,
      startOffsets: () => this.startOffsets,
      logs: this.logs,
      doubted: this.doubted,
      verify: (partition, last) => this.stillHolds(partition, last),
      rewind: (partition) => {
        this.positions.delete(partition);
        return this.seekToStart(partition);
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
        void this.countExpired();
      },
      onCrash: () => this.opts.metrics?.consumptionErrors.inc({ reason: "crash" }),
    });
    await this.loop.start();
  }

  /** Lets the handler call in flight finish (and commit), drops what waits, leaves the group, disconnects. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.merger?.close();
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

  /**
   * Whether the partition still holds the record `last` was: the first record appended after it is at a later
   * offset. In a log created since, every record is newer, so the first of them (offset 0) is the answer.
   */
  private async stillHolds(partition: number, last: Taken): Promise<boolean | undefined> {
    try {
      const offsets = await withDeadline(
        this.admin.fetchTopicOffsetsByTimestamp(this.topic, last.timestamp + 1),
        ADMIN_TIMEOUT_MS,
        "offsets by time",
      );
      const after = offsets.find((o) => o.partition === partition)?.offset;
      return after === undefined || compareOffsets(after, offsetAfter(last.offset)) >= 0;
    } catch (error) {
      this.logger.warn("cannot tell whether the partition's log was replaced; asking again", {
        partition,
        error: errorMessage(error),
      });
      return undefined;
    }
  }

  /**
   * Counts the records the broker removed (retention, or records deleted by hand) before the store had them: a
   * stored position below the partition's first offset, on the same log (the broker still orders the position's
   * record before that offset). Run on each group join and whenever kafkajs finds its position out of range.
   */
  private async countExpired(): Promise<void> {
    const load = this.opts.startOffsets;
    if (!load) return;
    try {
      const [positions, offsets] = await Promise.all([
        withDeadline(load(), ADMIN_TIMEOUT_MS, "stored positions"),
        withDeadline(this.admin.fetchTopicOffsets(this.topic), ADMIN_TIMEOUT_MS, "offsets"),
      ]);
      for (const { partition, low } of offsets) {
        const position = positions.get(partition);
        if (
          !position ||
          compareOffsets(low, position.next) <= 0 ||
          this.expired.get(partition) === position.next
        )
          continue;
        const last = lastCovered(position);
        if (!last || (await this.stillHolds(partition, last)) !== true) continue;
        this.expired.set(partition, position.next);
        const records = Number(BigInt(low) - BigInt(position.next));
        this.opts.metrics?.recordsExpired.inc(records);
        this.logger.error("the broker removed records before they were stored (retention)", {
          partition,
          from: position.next,
          to: low,
          records,
        });
      }
    } catch (error) {
      this.logger.warn("cannot tell whether records expired before they were stored", {
        error: errorMessage(error),
      });
    }
  }

  /** Fetches a partition from its first record still on the broker (offset 0 if the broker cannot say). */
  private async seekToStart(partition: number): Promise<void> {
    let first = "0";
    try {
      const offsets = await withDeadline(
        this.admin.fetchTopicOffsets(this.topic),
        ADMIN_TIMEOUT_MS,
        "offsets",
      );
      first = offsets.find((o) => o.partition === partition)?.low ?? first;
    } catch (error) {
      this.logger.warn("first offset unknown; reading the partition from offset 0", {
        partition,
        error: errorMessage(error),
      });
    }
    this.loop?.seek(partition, first);
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
