// Writer lanes: one merger (and so one write in flight) per lane, each partition's records in one lane at a time.

import type { BusBatch } from "../../../ports/log-bus.ts";
import type { BatchMerger } from "./batch-merger.ts";

/**
 * Routes each partition's slices to one of several mergers, whose handlers write concurrently. A partition is
 * bound to a lane from its first slice accepted there until the lane has stored every record of it: while any
 * wait or are being written, its next slices go to the same lane, so its records are stored in order and its
 * offsets never move past a record still to store. Once it has none left, its next slice goes to the lane with
 * the fewest partitions bound (the one with the fewest events waiting, when they tie): partitions spread over
 * the lanes whatever the group assigned this member.
 */
export class PartitionLanes {
  /** Partition → its lane and how many of its records that lane holds (accepted, not yet stored). */
  private readonly bound = new Map<number, { lane: number; records: number }>();

  constructor(readonly mergers: readonly BatchMerger[]) {
    if (mergers.length === 0) throw new Error("no lanes");
  }

  /** The merger the partition's next slice must go to (submitted() then binds the partition to it). */
  mergerOf(partition: number): BatchMerger {
    return this.mergers[this.laneOf(partition)] as BatchMerger;
  }

  /** The partition's slice of this many records was just accepted by the merger mergerOf() gave for it. */
  submitted(partition: number, merger: BatchMerger, records: number): void {
    const held = this.bound.get(partition);
    if (held) held.records += records;
    else this.bound.set(partition, { lane: this.mergers.indexOf(merger), records });
  }

  /** The batch's records are stored (or the lane will never store them: it closed). */
  stored(batch: BusBatch): void {
    for (const r of batch.records) {
      const held = this.bound.get(r.partition);
      if (!held) continue;
      held.records -= 1;
      if (held.records <= 0) this.bound.delete(r.partition);
    }
  }

  clear(): void {
    this.bound.clear();
  }

  private laneOf(partition: number): number {
    const held = this.bound.get(partition);
    if (held) return held.lane;
    if (this.mergers.length === 1) return 0;
    const partitions = this.mergers.map(() => 0);
    for (const { lane } of this.bound.values()) partitions[lane] = (partitions[lane] ?? 0) + 1;
    let best = 0;
    for (let lane = 1; lane < this.mergers.length; lane++) {
      const a = partitions[lane] ?? 0;
      const b = partitions[best] ?? 0;
      if (a < b || (a === b && (this.mergers[lane]?.waiting ?? 0) < (this.mergers[best]?.waiting ?? 0)))
        best = lane;
    }
    return best;
  }
}
