// A self-healing idempotent kafkajs producer: connects in the background with backoff and is replaced after a failure.

import type { Kafka, Producer, ProducerRecord, RecordMetadata } from "kafkajs";
import type { Logger } from "../../../observability/logger.ts";
import { murmur2Partitioner } from "./partitioner.ts";
import {
  type BackoffPolicy,
  backoffDelay,
  DeadlineError,
  errorMessage,
  sleep,
  withDeadline,
} from "./timing.ts";

export interface ProducerSlotOptions {
  kafka: Kafka;
  logger: Logger;
  /** Runs after the first successful connect, before the slot is ready (e.g. creating topics). */
  prepare?: () => Promise<void>;
  backoff?: BackoffPolicy;
}

interface Generation {
  producer: Producer;
  inflight: Set<Promise<void>>;
}

const settleQuietly = (p: Promise<unknown>): Promise<void> =>
  p.then(
    () => undefined,
    () => undefined,
  );

/**
 * Why a new producer after a failed send: kafkajs keeps idempotence sequence numbers per producer, and a
 * request that failed may or may not have been written; reusing the producer can then wedge a partition on
 * OUT_OF_ORDER_SEQUENCE_NUMBER. A fresh producer id starts clean; a resend is deduped by the consumer (event id).
 */
export class ProducerSlot {
  private current: Generation | undefined;
  private connecting: Promise<void> | undefined;
  private prepared = false;
  private stopped = false;
  private lastError: string | undefined = "connecting";
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private readonly background = new Set<Promise<void>>();
  private readonly backoff: BackoffPolicy;

  constructor(private readonly opts: ProducerSlotOptions) {
    this.backoff = opts.backoff ?? { initialMs: 250, maxMs: 5000 };
  }

  /** Starts connecting in the background; never fails. */
  start(): void {
    this.ensureConnecting();
  }

  get ready(): boolean {
    return this.current !== undefined;
  }

  /** Why the slot is not ready (last connect or send error), undefined when ready. */
  get problem(): string | undefined {
    return this.current ? undefined : (this.lastError ?? "connecting");
  }

  /**
   * Waits for a connected producer until the deadline (epoch ms), then sends; settles by the deadline.
   * A send still running at the deadline is left to finish (kafkajs bounds it by requestTimeout and its
   * few retries): replacing a slow but working producer on every timeout would never let it catch up.
   */
  async send(record: ProducerRecord, deadline: number): Promise<RecordMetadata[]> {
    const gen = await this.waitReady(deadline);
    const sending = gen.producer.send(record);
    const settled = sending.then(
      () => undefined,
      (error: unknown) => this.fail(gen, error),
    );
    gen.inflight.add(settled);
    this.keep(settled.then(() => gen.inflight.delete(settled)));
    return withDeadline(sending, deadline - Date.now(), "kafka send timed out");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    for (const wake of this.waiters) wake();
    await this.connecting;
    const gen = this.current;
    this.current = undefined;
    if (gen) this.retire(gen);
    await Promise.all(this.background);
  }

  /** Keeps a background promise so stop() can wait for it; it never rejects. */
  private keep(p: Promise<unknown>): void {
    const done: Promise<void> = settleQuietly(p).then(() => {
      this.background.delete(done);
    });
    this.background.add(done);
  }

  private fail(gen: Generation, error: unknown): void {
    if (this.current !== gen) return;
    this.current = undefined;
    this.lastError = errorMessage(error);
    this.opts.logger.warn("kafka send failed; replacing the producer", { error: this.lastError });
    this.retire(gen);
    this.ensureConnecting();
  }

  /** Disconnects once its in-flight sends have settled (kafkajs bounds them by requestTimeout and retries). */
  private retire(gen: Generation): void {
    this.keep(
      (async () => {
        await Promise.all(gen.inflight);
        await gen.producer.disconnect();
      })(),
    );
  }

  private ensureConnecting(): void {
    if (this.current || this.connecting || this.stopped) return;
    this.connecting = this.connectLoop().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const producer = this.opts.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 5,
        allowAutoTopicCreation: false,
        createPartitioner: murmur2Partitioner,
        // Few, quick retries: a publish is bounded by its deadline anyway, and a retry that lands after the
        // caller was told "failed" only makes a duplicate the consumer drops.
        retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      try {
        await producer.connect();
        if (!this.prepared && this.opts.prepare) await this.opts.prepare();
        this.prepared = true;
        if (this.stopped) {
          await producer.disconnect();
          return;
        }
        this.current = { producer, inflight: new Set() };
        if (this.lastError !== "connecting" || attempt > 0) this.opts.logger.info("kafka producer connected");
        this.lastError = undefined;
        for (const wake of this.waiters) wake();
        return;
      } catch (error) {
        this.lastError = errorMessage(error);
        if (attempt === 0 || attempt % 20 === 0)
          this.opts.logger.warn("kafka producer cannot connect; retrying", {
            error: this.lastError,
            attempt,
          });
        await settleQuietly(producer.disconnect());
        await sleep(backoffDelay(attempt, this.backoff), this.abort.signal);
      }
    }
  }

  private async waitReady(deadline: number): Promise<Generation> {
    for (;;) {
      if (this.stopped) throw new Error("kafka producer stopped");
      if (this.current) return this.current;
      this.ensureConnecting();
      const left = deadline - Date.now();
      if (left <= 0) throw new DeadlineError(`kafka unavailable: ${this.lastError ?? "connecting"}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}
