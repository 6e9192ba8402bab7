// One live-tail subscriber: its position, its queue of frames waiting for the socket, and a wake-up for its writer.

import { encodeCursor } from "../domain/cursor.ts";
import type { StoredLogEvent } from "../domain/log-event.ts";
import { eventJson } from "../domain/page-shape.ts";

/** One SSE frame, serialized once however many subscribers receive it. */
export interface TailFrame {
  seq: number;
  /** The frame as sent: `data:` (one line: JSON never holds a raw newline), then its cursor as `id:`. */
  text: string;
}

export const frameOf = (e: StoredLogEvent): TailFrame => ({
  seq: e.seq,
  text: `data: ${JSON.stringify(eventJson(e))}\nid: ${encodeCursor({ ts: e.timestamp, id: e.id, seq: e.seq })}\n\n`,
});

/** What the stream's writer gets from next(): frames to send, or why the stream ends. */
export type TailBatch = { frames: TailFrame[] } | { failed: unknown } | { closed: true };

export class TailSubscriber {
  /** Every event up to this arrival seq is queued or was sent (or does not match the filter). */
  afterSeq: number;
  private queue: TailFrame[] = [];
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;
  private ended = false;
  private drained: (() => void) | undefined;

  constructor(afterSeq: number) {
    this.afterSeq = afterSeq;
  }

  get closed(): boolean {
    return this.ended || this.failure !== undefined;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Queues the frames after this subscriber's position and moves it to `upTo` (what the read examined). */
  push(frames: readonly TailFrame[], upTo: number): void {
    if (this.closed) return;
    for (const f of frames) if (f.seq > this.afterSeq) this.queue.push(f);
    if (upTo > this.afterSeq) this.afterSeq = upTo;
    if (this.queue.length) this.poke();
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = { error };
    this.poke();
  }

  close(): void {
    this.ended = true;
    this.poke();
    this.drained?.();
  }

  /** Resolves once the queue is shorter than `below` (or the subscriber is closed): the catch-up's back-pressure. */
  async roomFor(below: number): Promise<void> {
    while (!this.closed && this.queue.length >= below)
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
  }

  /** The queued frames, or waits up to `waitMs` for some (an empty batch then: time for a heartbeat). */
  async next(waitMs: number): Promise<TailBatch> {
    if (!this.queue.length && !this.closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, waitMs);
      });
      clearTimeout(timer);
      this.wake = undefined;
    }
    if (this.queue.length) {
      const frames = this.queue;
      this.queue = [];
      const drained = this.drained;
      this.drained = undefined;
      drained?.();
      return { frames };
    }
    if (this.failure) return { failed: this.failure.error };
    if (this.ended) return { closed: true };
    return { frames: [] };
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
