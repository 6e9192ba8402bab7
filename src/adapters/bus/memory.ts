// The in-process bus of embedded mode: publish() resolves only once the consumer has stored the events,
// so an acknowledged event survives a kill -9 exactly as it does with Kafka (acks=all) + PostgreSQL.
// Its offsets start at 0 in every process, so its batches are marked transient: the store dedupes them by
// event id alone and never compares their offsets with those a previous process (or another one) stored.

import { overloaded } from "../../domain/errors.ts";
import type { LogEvent } from "../../domain/log-event.ts";
import { encodeEvent } from "../../domain/wire.ts";
import type {
  BatchHandler,
  BusBatch,
  BusRecord,
  DeadLetter,
  Health,
  LogPublisher,
  LogSubscriber,
} from "../../ports/log-bus.ts";

/**
 * A record of the in-process bus. It carries the event itself, which the consumer takes as it is, and is
 * encoded only if something reads `value` (a dead letter): encoding every event cost the event loop a string
 * and a buffer per event, for nothing.
 */
class InProcessRecord implements BusRecord {
  readonly partition = 0;
  offset = "";
  readonly key: string;
  #value: Uint8Array | undefined;

  constructor(
    readonly event: LogEvent,
    readonly timestamp: number,
  ) {
    this.key = event.source;
  }

  get value(): Uint8Array {
    this.#value ??= Buffer.from(encodeEvent(this.event));
    return this.#value;
  }
}

/** The wire format's keys and punctuation around the fields, with a 13-digit time ({"v":1,"id":"",…}). */
const WIRE_OVERHEAD = 82;

/** About the bytes of an event's encoding, without encoding it: exact for ASCII, short where JSON escapes. */
const wireBytes = (event: LogEvent): number =>
  WIRE_OVERHEAD +
  event.id.length +
  event.level.length +
  Buffer.byteLength(event.message) +
  Buffer.byteLength(event.source) +
  (event.metadata === null ? 4 : Buffer.byteLength(JSON.stringify(event.metadata)));

/** A record's size as recordBytes counts it (value, key and 64 for the record itself). */
const recordBytesOf = (event: LogEvent): number => wireBytes(event) + event.source.length + 64;

/** One publish() waiting for its records: resolved once every one is stored, rejected at the first failure. */
class Waiter {
  constructor(
    private left: number,
    private readonly resolve: () => void,
    private readonly reject: (error: Error) => void,
  ) {}

  stored(): void {
    if (--this.left === 0) this.resolve();
  }

  failed(error: Error): void {
    this.left = -1;
    this.reject(error);
  }
}

interface Pending {
  record: BusRecord;
  bytes: number;
  waiter: Waiter;
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
  /** How many records at the head of the queue the batch being handled holds (0: none in flight). */
  private inFlight = 0;
  /** The batch after it, already given to the handler's prepare: handed over next, as it is. */
  private prepared: { pending: Pending[]; batch: BusBatch } | undefined;
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
    for (const p of this.queue.splice(0)) p.waiter.failed(new Error("bus stopped"));
  }

  publish(events: LogEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const now = Date.now();
    const records = events.map((event) => new InProcessRecord(event, now));
    const sizes = events.map(recordBytesOf);
    const bytes = sizes.reduce((a, b) => a + b, 0);
    if (
      this.queue.length + events.length > this.maxQueued ||
      (this.queue.length > 0 && this.queuedBytes + bytes > this.maxQueuedBytes)
    )
      return Promise.reject(overloaded("the in-process bus queue is full; retry later"));
    const stored = new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(records.length, resolve, reject);
      records.forEach((record, i) => {
        record.offset = String(this.nextOffset++);
        this.queue.push({ record, bytes: sizes[i] ?? 0, waiter });
      });
    });
    this.queuedBytes += bytes;
    this.wake?.();
    this.prepareNext();
    return stored;
  }

  async run(handlers: BatchHandler | readonly BatchHandler[]): Promise<void> {
    const handler = Array.isArray(handlers) ? handlers[0] : (handlers as BatchHandler);
    if (!handler) throw new Error("no handler");
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

  /** The oldest records from `from` on, up to maxBatch of them and maxBatchBytes (at least one, whatever its size). */
  private nextBatch(from: number): Pending[] {
    let bytes = 0;
    let n = 0;
    for (let i = from; i < this.queue.length; i++) {
      const p = this.queue[i] as Pending;
      if (n >= this.maxBatch || (n > 0 && bytes + p.bytes > this.maxBatchBytes)) break;
      bytes += p.bytes;
      n++;
    }
    return this.queue.slice(from, from + n);
  }

  private batchOf(pending: Pending[]): BusBatch {
    return { topic: this.topic, records: pending.map((p) => p.record), transient: true };
  }

  /**
   * While a batch is being handled, the records queued behind it become the next batch at once and go to the
   * handler's prepare: the store can start on them while the current write finishes (for the embedded
   * store, its write thread finds the next batch waiting), rather than after the current one is answered.
   */
  private prepareNext(): void {
    const prepare = this.handler?.prepare;
    if (
      !prepare ||
      !this.running ||
      this.inFlight === 0 ||
      this.prepared ||
      this.queue.length <= this.inFlight
    )
      return;
    const pending = this.nextBatch(this.inFlight);
    this.prepared = { pending, batch: this.batchOf(pending) };
    prepare(this.prepared.batch);
  }

  private async consume(): Promise<void> {
    // A batch already prepared may have reached the store: it is handed over even when stopping.
    while (this.running || this.prepared) {
      if (this.queue.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      // The prepared batch is the head of the queue now (the one before it was stored and removed).
      const next = this.prepared ?? { pending: this.nextBatch(0), batch: undefined };
      this.prepared = undefined;
      const { pending } = next;
      this.inFlight = pending.length;
      try {
        const handled = this.handler?.(next.batch ?? this.batchOf(pending));
        this.prepareNext();
        await handled;
        this.queue.splice(0, pending.length);
        for (const p of pending) this.queuedBytes -= p.bytes;
        for (const p of pending) p.waiter.stored();
      } catch {
        // The store is failing: leave the batch queued and try again shortly, as Kafka would redeliver it.
        // A batch prepared behind it is dropped: it is formed again, from the head, after the pause.
        this.prepared = undefined;
        await Bun.sleep(this.retryDelayMs);
      } finally {
        this.inFlight = 0;
      }
    }
  }
}
