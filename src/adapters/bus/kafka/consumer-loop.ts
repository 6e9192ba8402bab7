// Keeps one kafkajs consumer in the group: retries its start and replaces it after a crash, with backoff.

import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Logger } from "../../../observability/logger.ts";
import type { Health } from "../../../ports/log-bus.ts";
import { type BackoffPolicy, backoffDelay, errorMessage, sleep } from "./timing.ts";

export interface ConsumerLoopOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  /** A member silent this long is dropped from the group and its partitions reassigned; heartbeats every third. */
  sessionTimeoutMs: number;
  fromBeginning: boolean;
  logger: Logger;
  /** Runs before each start (topics, replay positions); returns how many partitions to consume concurrently. */
  prepare: () => Promise<number>;
  eachBatch: (payload: EachBatchPayload) => Promise<void>;
  /** Called on every state change (joined, crashed, cannot start). */
  onState: (state: Health) => void;
  /** Called on every group join (a new generation: assignments may have moved). */
  onJoin: () => void;
  onCrash?: () => void;
}

const START_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 10_000 };

export class ConsumerLoop {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private failures = 0;
  private current: Consumer | undefined;

  constructor(private readonly opts: ConsumerLoopOptions) {}

  /** Resolves after the first attempt to start (successful or not); later attempts go on in the background. */
  start(): Promise<void> {
    return new Promise<void>((attempted) => {
      this.loop = this.supervise(attempted);
    });
  }

  /** Commits next offsets through the consumer in the group now (a no-op between consumers). */
  async commit(next: Map<number, string>): Promise<void> {
    const consumer = this.current;
    if (!consumer || next.size === 0) return;
    await consumer.commitOffsets(
      [...next].map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset })),
    );
  }

  /** Moves the consumer's fetch position on a partition it owns (a no-op between consumers). */
  seek(partition: number, offset: string): void {
    this.current?.seek({ topic: this.opts.topic, partition, offset });
  }

  /** Stops the consumer (kafkajs waits for the eachBatch calls running) and leaves the group. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async supervise(attempted: () => void): Promise<void> {
    const { logger, onState } = this.opts;
    const stopped = new Promise<null>((resolve) =>
      this.abort.signal.addEventListener("abort", () => resolve(null), { once: true }),
    );
    const failed = (error: unknown) => {
      this.failures++;
      if (this.failures === 1 || this.failures % 20 === 0)
        logger.warn("kafka consumer failed; restarting it", {
          error: errorMessage(error),
          failures: this.failures,
        });
    };
    while (!this.abort.signal.aborted) {
      const consumer = this.createConsumer();
      this.current = consumer;
      // restartOnFailure is off: every crash ends this consumer, and we restart with our own backoff.
      const crashed = new Promise<Error>((resolve) => {
        consumer.on(consumer.events.CRASH, ({ payload }) => {
          onState({ ok: false, detail: `kafka consumer crashed: ${errorMessage(payload.error)}` });
          this.opts.onCrash?.();
          resolve(payload.error);
        });
      });
      try {
        const concurrency = await this.opts.prepare();
        await consumer.connect();
        await consumer.subscribe({ topics: [this.opts.topic], fromBeginning: this.opts.fromBeginning });
        if (!this.abort.signal.aborted)
          await consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: concurrency,
            eachBatch: this.opts.eachBatch,
          });
        attempted();
        const crash = await Promise.race([crashed, stopped]);
        if (crash) failed(crash);
      } catch (error) {
        onState({ ok: false, detail: `kafka consumer: ${errorMessage(error)}` });
        failed(error);
        attempted();
      }
      this.current = undefined;
      await consumer.disconnect().catch((error: unknown) => {
        logger.warn("kafka consumer disconnect failed", { error: errorMessage(error) });
      });
      await sleep(backoffDelay(Math.max(0, this.failures - 1), START_BACKOFF), this.abort.signal);
    }
  }

  private createConsumer(): Consumer {
    const consumer = this.opts.kafka.consumer({
      groupId: this.opts.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.opts.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.opts.sessionTimeoutMs / 3),
      // Under load a fetch returns at once with plenty; when idle it waits at most 100 ms for 64 KiB.
      minBytes: 64 * 1024,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 30_000, restartOnFailure: async () => false },
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const partitions = payload.memberAssignment[this.opts.topic] ?? [];
      this.opts.onState({
        ok: true,
        detail: `group ${this.opts.groupId}, partitions [${partitions.join(",")}]`,
      });
      if (this.failures > 0) this.opts.logger.info("kafka consumer back in the group", { partitions });
      this.failures = 0;
      this.opts.onJoin();
    });
    return consumer;
  }
}
