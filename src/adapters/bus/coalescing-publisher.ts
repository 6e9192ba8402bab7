// Coalesces concurrent publishes into shared sends (Kafka's linger.ms / batch.size) behind an in-flight limit.

import { DomainError, overloaded } from "../../domain/errors.ts";
import type { LogEvent } from "../../domain/log-event.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Health, LogPublisher, PublishOptions } from "../../ports/log-bus.ts";
import { type Batch, type Caller, caller, emptyBatch, eventsOf, type Outcome } from "./publish-batch.ts";

export interface CoalescingOptions {
  /** How long a batch waits for more events after its first one while nothing forces it out sooner. */
  lingerMs: number;
  /** Most events in one shared send; a publish of this many or more is sent alone, whole, at once. */
  maxBatchEvents: number;
  /** Most events accepted and not yet settled by the bus (queued or being sent); past it publishes are refused. */
  maxPendingEvents: number;
  /** A waiting caller is answered within this many ms of joining a batch, whatever the bus does. */
  answerWithinMs: number;
  /** Sends running at once (see the class comment for why one). */
  maxInFlight?: number;
  metrics?: Pick<Metrics, "busSends" | "busSendEvents" | "busPendingEvents">;
}

/** The publisher underneath: a guarded bus that can say it refuses (open circuit) without being called. */
export type CoalescedPublisher = LogPublisher & { refusal?(): DomainError | undefined };

/**
 * kafkajs's idempotent producer holds a lock per broker for the whole round trip of a produce request, so
 * concurrent sends only queue inside kafkajs, each with its one event. Here they queue as events instead: one
 * send runs while the next batch keeps growing (up to maxBatchEvents), and every caller is settled by the
 * outcome of the send that carried its events. Waiting here is local backpressure, never a bus failure: it
 * stays out of the circuit breaker underneath, which only ever sees the sends themselves.
 */
export class CoalescingPublisher implements LogPublisher {
  private open: Batch | undefined;
  private readonly queue: Batch[] = [];
  private pending = 0;
  private inFlight = 0;
  private stopping = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxInFlight: number;

  constructor(
    private readonly inner: CoalescedPublisher,
    private readonly opts: CoalescingOptions,
  ) {
    this.maxInFlight = opts.maxInFlight ?? 1;
    opts.metrics?.busPendingEvents.set(0);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  /** Sends what is queued at once (no more lingering), waits for every send, then stops the bus. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.seal();
    this.pump();
    if (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.inner.stop();
  }

  health(): Promise<Health> {
    return this.inner.health();
  }

  /** Why a publish of `count` events would be refused right now (open circuit, or the in-flight limit). */
  refusal(count = 1): DomainError | undefined {
    const refused = this.inner.refusal?.();
    if (refused) return refused;
    // Something bigger than the whole limit is still taken when nothing waits, or it could never be sent.
    if (this.pending === 0 || this.pending + count <= this.opts.maxPendingEvents) return undefined;
    return overloaded(
      `${this.pending} events are already waiting for the log bus (limit ${this.opts.maxPendingEvents}); retry later`,
    );
  }

  /** Enqueues synchronously: a refusal() checked just before cannot be overtaken by another request. */
  publish(events: LogEvent[], opts: PublishOptions = {}): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const refused = this.refusal(events.length);
    if (refused) return Promise.reject(refused);
    if (events.length >= this.opts.maxBatchEvents) return this.direct(events);
    return new Promise<void>((resolve, reject) => {
      this.add(caller(events, opts.detached === true, resolve, reject));
    });
  }

  /**
   * A publish that fills a send by itself has nothing to gain from waiting: it goes out at once, beside the
   * shared sends, as it did before coalescing (kafkajs overlaps its preparation with the send ahead of it).
   */
  private async direct(events: LogEvent[]): Promise<void> {
    this.setPending(this.pending + events.length);
    this.opts.metrics?.busSendEvents.observe(events.length);
    let result = "error";
    try {
      await this.inner.publish(events);
      result = "ok";
    } finally {
      this.opts.metrics?.busSends.inc({ result });
      this.setPending(this.pending - events.length);
    }
  }

  private add(c: Caller): void {
    const n = c.events.length;
    if (this.open && this.open.events + n > this.opts.maxBatchEvents) this.seal();
    const batch = this.open ?? this.openBatch();
    batch.callers.push(c);
    batch.events += n;
    this.setPending(this.pending + n);
    if (batch.events >= this.opts.maxBatchEvents || this.stopping) this.seal();
    this.pump();
  }

  private openBatch(): Batch {
    const batch = emptyBatch();
    batch.lingerTimer = setTimeout(() => {
      batch.lingered = true;
      this.pump();
    }, this.opts.lingerMs);
    batch.answerTimer = setTimeout(() => this.answerDue(batch), this.opts.answerWithinMs);
    this.open = batch;
    return batch;
  }

  private seal(): void {
    const batch = this.open;
    if (!batch) return;
    clearTimeout(batch.lingerTimer);
    batch.state = "queued";
    this.queue.push(batch);
    this.open = undefined;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      if (this.queue.length === 0 && this.open?.lingered) this.seal();
      const batch = this.queue.shift();
      if (!batch) return;
      this.send(batch);
    }
  }

  private send(batch: Batch): void {
    batch.state = "sending";
    this.inFlight++;
    const events = eventsOf(batch);
    this.opts.metrics?.busSendEvents.observe(events.length);
    void this.inner.publish(events).then(
      () => this.finish(batch, { ok: true }),
      (error: unknown) => this.finish(batch, { ok: false, error }),
    );
  }

  private finish(batch: Batch, outcome: Outcome): void {
    clearTimeout(batch.answerTimer);
    this.inFlight--;
    this.opts.metrics?.busSends.inc({ result: outcome.ok ? "ok" : "error" });
    this.setPending(this.pending - batch.events);
    for (const c of batch.callers) c.settle(outcome);
    this.pump();
  }

  /** A batch's waiting callers are due an answer. Detached callers (nobody waits) stay with their events. */
  private answerDue(batch: Batch): void {
    const waiting = batch.callers.filter((c) => !c.detached);
    if (waiting.length === 0) return;
    if (batch.state === "sending") {
      // The bus has the events and has not answered yet; the guard underneath judges that send on its own.
      const late = new DomainError(
        "unavailable",
        `the log bus did not answer within ${this.opts.answerWithinMs} ms; retry later`,
        { retryAfter: 1 },
      );
      for (const c of waiting) c.settle({ ok: false, error: late });
      return;
    }
    // Still here: those events never left this process, so they leave the batch and nothing is sent twice.
    batch.callers = batch.callers.filter((c) => c.detached);
    const leaving = waiting.reduce((n, c) => n + c.events.length, 0);
    batch.events -= leaving;
    this.setPending(this.pending - leaving);
    const waited = overloaded(
      `the events waited ${this.opts.answerWithinMs} ms behind others for the log bus; retry later`,
    );
    for (const c of waiting) c.settle({ ok: false, error: waited });
    if (batch.events > 0) return;
    clearTimeout(batch.lingerTimer);
    if (this.open === batch) this.open = undefined;
    const at = this.queue.indexOf(batch);
    if (at >= 0) this.queue.splice(at, 1);
  }

  private setPending(n: number): void {
    this.pending = n;
    this.opts.metrics?.busPendingEvents.set(n);
    if (n === 0 && this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
