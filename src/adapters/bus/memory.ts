// The in-process bus of embedded mode: publish() resolves only once the consumer has stored the events,
// so an acknowledged event survives a kill -9 exactly as it does with Kafka (acks=all) + PostgreSQL.
// Its offsets start at 0 in every process, so its batches are marked transient: the store dedupes them by
// event id alone and never compares their offsets with those a previous process (or another one) stored.

import { overloaded } from "../../domain/errors.ts";
import type { LogEvent } from "../../domain/log-event.ts";
import { encodeEvent } from "../../domain/wire.ts";
import type {
  BatchHandler,
  BusRecord,
  DeadLetter,
  Health,
  LogPublisher,
  LogSubscriber,
} from "../../ports/log-bus.ts";
import { recordBytes } from "./record-bytes.ts";

interface Pending {
  record: BusRecord;
  bytes: number;
  settle: (error?: Error) => void;
}

export interface MemoryBusOptions {
  topic?: string;
  maxBatch?: number;
  /** Most record bytes in one batch (a single larger record goes alone). */
  maxBatchBytes?: number;
  /** Most records waiting for the consumer before publish() is refused (backpressure). */
  maxQueued?: number;
  /** Most record bytes waiting for the consumer (default 4 x maxBatchBytes); one larger publish is let in alone. */
  maxQueuedBytes?: number;
  /** Delay before redelivering a batch whose handler failed. */
  retryDelayMs?: number;
}

export class MemoryBus implements LogPublisher, LogSubscriber {
  readonly topic: string;
  readonly deadLetters: DeadLetter[] = [];
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly maxQueued: number;
  private readonly maxQueuedBytes: number;
  private queuedBytes = 0;
  private readonly retryDelayMs: number;
  private queue: Pending[] = [];
  private nextOffset = 0n;
  private handler: BatchHandler | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private running = false;

  constructor(opts: MemoryBusOptions = {}) {
    this.topic = opts.topic ?? "log-events";
    this.maxBatch = opts.maxBatch ?? 5000;
    this.maxBatchBytes = opts.maxBatchBytes ?? 32 * 1024 * 1024;
    this.maxQueued = opts.maxQueued ?? 200_000;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 4 * this.maxBatchBytes;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.queuedBytes = 0;
    for (const p of this.queue.splice(0)) p.settle(new Error("bus stopped"));
  }

  publish(events: LogEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const now = Date.now();
    const records = events.map(
      (event): BusRecord => ({
        partition: 0,
        offset: "",
        key: event.source,
        value: Buffer.from(encodeEvent(event)),
        timestamp: now,
        event,
      }),
    );
    const sizes = records.map(recordBytes);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (
      this.queue.length + events.length > this.maxQueued ||
      (this.queue.length > 0 && this.queuedBytes + bytes > this.maxQueuedBytes)
    )
      return Promise.reject(overloaded("the in-process bus queue is full; retry later"));
    const settled = records.map(
      (record, i) =>
        new Promise<void>((resolve, reject) => {
          record.offset = String(this.nextOffset++);
          this.queue.push({
            record,
            bytes: sizes[i] ?? 0,
            settle: (error) => (error ? reject(error) : resolve()),
          });
        }),
    );
    this.queuedBytes += bytes;
    this.wake?.();
    return Promise.all(settled).then(() => undefined);
  }

  async run(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    this.running = true;
    this.loop = this.consume();
  }

  async deadLetter(letters: DeadLetter[]): Promise<void> {
    this.deadLetters.push(...letters);
  }

  async health(): Promise<Health> {
    return { ok: true, detail: `in-process, ${this.queue.length} queued` };
  }

  async lag(): Promise<Map<number, number>> {
    return new Map([[0, this.queue.length]]);
  }

  /** The oldest records, up to maxBatch of them and maxBatchBytes (at least one, whatever its size). */
  private nextBatch(): Pending[] {
    let bytes = 0;
    let n = 0;
    for (const p of this.queue) {
      if (n >= this.maxBatch || (n > 0 && bytes + p.bytes > this.maxBatchBytes)) break;
      bytes += p.bytes;
      n++;
    }
    return this.queue.slice(0, n);
  }

  private async consume(): Promise<void> {
    while (this.running) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.nextBatch();
      try {
        await this.handler?.({ topic: this.topic, records: batch.map((p) => p.record), transient: true });
        this.queue.splice(0, batch.length);
        for (const p of batch) this.queuedBytes -= p.bytes;
        for (const p of batch) p.settle();
      } catch {
        // The store is failing: leave the batch queued and try again shortly, as Kafka would redeliver it.
        await Bun.sleep(this.retryDelayMs);
      }
    }
  }
}
