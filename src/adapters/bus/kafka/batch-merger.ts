// Merges the per-partition batches kafkajs delivers concurrently into bigger handler batches, one handler call at a time.

import type { BatchHandler, BusRecord } from "../../../ports/log-bus.ts";

/** The handler rejected: the slice is not done and should come again after retryInMs. */
export class HandlerFailure extends Error {
  constructor(
    readonly reason: unknown,
    readonly retryInMs: number,
  ) {
    super(`batch handler failed: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = "HandlerFailure";
  }
}

/** The merger was closed before the slice reached the handler: nothing was done with it. */
export class MergerClosed extends Error {
  constructor() {
    super("consumer stopping");
    this.name = "MergerClosed";
  }
}

/** Commits "next offset to read" per partition after a successful handler call; must not throw. */
export type CommitNext = (next: Map<number, string>) => Promise<void>;

interface Slice {
  records: BusRecord[];
  commit: CommitNext;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Group {
  slices: Slice[];
  count: number;
  lingered: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface BatchMergerOptions {
  topic: string;
  maxBatch: number;
  /** How long a group waits for slices of other partitions before going to an idle handler. */
  lingerMs: number;
  handler: BatchHandler;
  /** Delay before a failed batch comes again, given the number of consecutive failures before it. */
  retryDelay: (failures: number) => number;
  onFailure?: (error: unknown, retryInMs: number) => void;
}

export const nextOffsets = (records: BusRecord[]): Map<number, string> => {
  const next = new Map<number, bigint>();
  for (const r of records) {
    const candidate = BigInt(r.offset) + 1n;
    const current = next.get(r.partition);
    if (current === undefined || current < candidate) next.set(r.partition, candidate);
  }
  return new Map([...next].map(([p, o]) => [p, o.toString()]));
};

/**
 * kafkajs hands over one partition per eachBatch call, but all partitions of a fetch arrive in the same
 * tick; COPY wants thousands of rows per transaction, so slices wait a moment (lingerMs) to travel together.
 * A slice resolves only after the handler resolved and its offsets were committed.
 */
export class BatchMerger {
  private open: Group | undefined;
  private readonly sealed: Group[] = [];
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private closed = false;

  constructor(private readonly opts: BatchMergerOptions) {}

  submit(records: BusRecord[], commit: CommitNext): Promise<void> {
    if (this.closed) return Promise.reject(new MergerClosed());
    return new Promise<void>((resolve, reject) => {
      if (this.open && this.open.count + records.length > this.opts.maxBatch) this.seal();
      const group = this.open ?? this.openGroup();
      group.slices.push({ records, commit, resolve, reject });
      group.count += records.length;
      if (group.count >= this.opts.maxBatch) this.seal();
      this.pump();
    });
  }

  /** Refuses new slices, rejects those still waiting, and waits for the handler call in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.seal();
    for (const group of this.sealed.splice(0)) for (const s of group.slices) s.reject(new MergerClosed());
    await this.inFlight;
  }

  private openGroup(): Group {
    const group: Group = { slices: [], count: 0, lingered: false, timer: undefined };
    group.timer = setTimeout(() => {
      group.lingered = true;
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
  }

  private pump(): void {
    if (this.inFlight || this.closed) return;
    let group = this.sealed.shift();
    if (!group && this.open?.lingered) {
      group = this.open;
      this.open = undefined;
    }
    if (!group) return;
    const done = () => {
      this.inFlight = undefined;
      this.pump();
    };
    this.inFlight = this.process(group).then(done, done);
  }

  private async process(group: Group): Promise<void> {
    const records = group.slices.flatMap((s) => s.records);
    try {
      await this.opts.handler({ topic: this.opts.topic, records });
    } catch (error) {
      const retryInMs = this.opts.retryDelay(this.failures++);
      this.opts.onFailure?.(error, retryInMs);
      const failure = new HandlerFailure(error, retryInMs);
      for (const s of group.slices) s.reject(failure);
      return;
    }
    this.failures = 0;
    const last = group.slices[group.slices.length - 1];
    if (last) await last.commit(nextOffsets(records));
    for (const s of group.slices) s.resolve();
  }
}
