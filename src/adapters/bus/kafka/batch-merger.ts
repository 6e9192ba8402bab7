// Merges the per-partition slices kafkajs delivers into handler batches and hands them over in order, one at a
// time, while kafkajs goes on fetching: decoding, fetching and the store's write overlap.

import { nextOffsets } from "../../../domain/offsets.ts";
import type { BatchHandler, BusBatch, BusRecord } from "../../../ports/log-bus.ts";
import { recordBytes, recordEvents } from "../record-bytes.ts";
import { sleep } from "./timing.ts";

/** The merger was closed: the slice was not accepted (nothing was done with it). */
export class MergerClosed extends Error {
  constructor() {
    super("consumer stopping");
    this.name = "MergerClosed";
  }
}

export interface BatchMergerOptions {
  topic: string;
  /** Most events in one batch (a packed record counts as the events it holds). */
  maxBatch: number;
  /** Most record bytes in one batch (recordBytes); a single larger record goes alone. */
  maxBatchBytes?: number;
  /** Most events accepted but not yet handed over (a larger slice is accepted alone); kafkajs waits meanwhile. */
  capacity: number;
  /** Most record bytes accepted but not yet handed over, as capacity counts records. */
  capacityBytes?: number;
  /** How long a group waits for slices of other partitions before going to an idle handler. */
  lingerMs: number;
  handler: BatchHandler;
  /** After the handler resolved for a batch: commit its next offsets on the bus and count it. Must not throw. */
  onStored: (batch: BusBatch, next: Map<number, string>) => Promise<void>;
  /** Delay before a failed batch is handed over again, given the number of consecutive failures before it. */
  retryDelay: (failures: number) => number;
  onFailure?: (error: unknown, retryInMs: number) => void;
}

interface Group {
  records: BusRecord[];
  /** The events its records hold (recordEvents). */
  events: number;
  bytes: number;
  lingered: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Built once the group is sealed; the same object is prepared ahead and then handled. */
  batch?: BusBatch;
}

/**
 * kafkajs hands over one partition per eachBatch call and fetches that partition again only once the call
 * returns. So a slice is accepted at once (while there is room) and the call returns; COPY wants thousands
 * of rows per transaction, so slices wait a moment (lingerMs) to travel together. Batches go to the handler
 * strictly in order; a failed one is handed over again (after retryDelay) until it succeeds or the merger
 * closes, so offsets committed after a batch never pass a record that is not stored. While one batch is
 * being handled, the next sealed one goes to the handler's prepare (its decoding overlaps the write).
 */
export class BatchMerger {
  private open: Group | undefined;
  private readonly sealed: Group[] = [];
  private queued = 0;
  private queuedBytes = 0;
  private readonly maxBatchBytes: number;
  private readonly capacityBytes: number;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private closed = false;
  private readonly stopping = new AbortController();
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: BatchMergerOptions) {
    this.maxBatchBytes = opts.maxBatchBytes ?? Number.POSITIVE_INFINITY;
    this.capacityBytes = opts.capacityBytes ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Accepts a slice; it is handed over after every slice accepted before it. A slice that does not fit in the
   * open batch starts a new one; a slice larger than a batch is spread over several: no batch exceeds
   * maxBatch events or maxBatchBytes, except a single record larger than that, which goes alone. A record is
   * never split: its offset is stored only with all of its events.
   */
  submit(records: BusRecord[]): void {
    if (this.closed) throw new MergerClosed();
    if (records.length === 0) return;
    const { maxBatch } = this.opts;
    const sizes = records.map(recordBytes);
    const total = sizes.reduce((a, b) => a + b, 0);
    let events = 0;
    for (const r of records) events += recordEvents(r);
    const open = this.open;
    if (open && (open.events + events > maxBatch || open.bytes + total > this.maxBatchBytes)) this.seal();
    records.forEach((r, i) => {
      const size = sizes[i] ?? 0;
      const n = recordEvents(r);
      const current = this.open;
      if (current && (current.events + n > maxBatch || current.bytes + size > this.maxBatchBytes))
        this.seal();
      const group = this.open ?? this.openGroup();
      group.records.push(r);
      group.events += n;
      group.bytes += size;
    });
    this.queued += events;
    this.queuedBytes += total;
    const last = this.open;
    if (last && (last.events >= maxBatch || last.bytes >= this.maxBatchBytes)) this.seal();
    this.pump();
  }

  /** Events accepted but not yet handed over. */
  get waiting(): number {
    return this.queued;
  }

  /** Whether a slice may be accepted now: what waits stays within the capacity, in events and bytes. */
  hasRoom(count: number, bytes = 0): boolean {
    return (
      this.queued === 0 ||
      (this.queued + count <= this.opts.capacity && this.queuedBytes + bytes <= this.capacityBytes)
    );
  }

  /** Resolves once a batch went to the handler (room was made) or the merger closed, or after ms at the latest. */
  async waitForRoom(ms: number): Promise<void> {
    if (this.closed) return;
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    this.waiters.push(wake);
    await Promise.race([woken, sleep(ms, this.stopping.signal)]);
    this.waiters = this.waiters.filter((w) => w !== wake);
  }

  /** Drops what waits (never handed over, never committed), stops retrying, waits for the handler call in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopping.abort();
    if (this.open) clearTimeout(this.open.timer);
    this.open = undefined;
    this.sealed.splice(0);
    this.queued = 0;
    this.queuedBytes = 0;
    this.wakeWaiters();
    await this.inFlight;
  }

  private openGroup(): Group {
    const group: Group = { records: [], events: 0, bytes: 0, lingered: false, timer: undefined };
    group.timer = setTimeout(() => {
      group.lingered = true;
      // The fetch's slices have all arrived: with a batch in flight, seal this one so it can be prepared.
      if (this.inFlight && this.open === group && !this.sealed.length) this.seal();
      this.pump();
    }, this.opts.lingerMs);
    this.open = group;
    return group;
  }

  private seal(): void {
    if (!this.open) return;
    clearTimeout(this.open.timer);
    this.sealed.push(this.open);
    this.open = undefined;
    if (this.inFlight) this.prepareNext();
  }

  private batchOf(group: Group): BusBatch {
    group.batch ??= { topic: this.opts.topic, records: group.records };
    return group.batch;
  }

  private prepareNext(): void {
    const next = this.sealed[0];
    if (!next || next.batch || this.closed) return;
    this.opts.handler.prepare?.(this.batchOf(next));
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    let group = this.sealed.shift();
    if (!group && this.open?.lingered) {
      group = this.open;
      this.open = undefined;
    }
    if (!group) return;
    this.queued -= group.events;
    this.queuedBytes -= group.bytes;
    this.wakeWaiters();
    const done = () => {
      this.inFlight = undefined;
      this.pump();
    };
    this.inFlight = this.process(this.batchOf(group)).then(done, done);
    this.prepareNext();
  }

  private async process(batch: BusBatch): Promise<void> {
    for (;;) {
      try {
        await this.opts.handler(batch);
        break;
      } catch (error) {
        // Closing abandons the batch: nothing of it was committed, so whoever reads the partition next gets it.
        if (this.closed) return;
        const retryInMs = this.opts.retryDelay(this.failures++);
        this.opts.onFailure?.(error, retryInMs);
        await sleep(retryInMs, this.stopping.signal);
        if (this.closed) return;
      }
    }
    this.failures = 0;
    await this.opts.onStored(batch, nextOffsets(batch.records));
  }
}
