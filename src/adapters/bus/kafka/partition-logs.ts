// What the broker says of the partition logs a subscriber reads: whether a log was replaced (a topic created
// again), where a partition now starts, and which records it removed before the store had them (retention).

import type { Admin } from "kafkajs";
import {
  compareOffsets,
  lastCovered,
  offsetAfter,
  type Position,
  type Taken,
} from "../../../domain/offsets.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { Metrics } from "../../../observability/metrics.ts";
import type { PartitionLog } from "./consume-batch.ts";
import { errorMessage, withDeadline } from "./timing.ts";

export interface PartitionLogsOptions {
  admin: Admin;
  topic: string;
  logger: Logger;
  /** Bound on each broker question. */
  timeoutMs: number;
  metrics?: Pick<Metrics, "recordsExpired">;
}

export class PartitionLogs {
  /** The log read so far per partition (consumeBatch keeps it). */
  readonly logs = new Map<number, PartitionLog>();
  /** Partitions to check before their next batch (consumeBatch clears them). */
  readonly doubted = new Set<number>();
  /** Per partition, the stored position whose expired records were counted (each gap counted once). */
  private readonly expired = new Map<number, string>();

  constructor(private readonly opts: PartitionLogsOptions) {}

  /** The topic went missing (it may be deleted and created again): every partition read so far is checked. */
  doubtAll(): void {
    for (const partition of this.logs.keys()) this.doubted.add(partition);
  }

  /**
   * Whether the partition still holds the record `last` was: the first record appended after it is at a later
   * offset. In a log created since, every record is newer, so the first of them (offset 0) is the answer.
   * Undefined when the broker cannot say now.
   */
  async stillHolds(partition: number, last: Taken): Promise<boolean | undefined> {
    const { admin, topic, timeoutMs, logger } = this.opts;
    try {
      const offsets = await withDeadline(
        admin.fetchTopicOffsetsByTimestamp(topic, last.timestamp + 1),
        timeoutMs,
        "offsets by time",
      );
      const after = offsets.find((o) => o.partition === partition)?.offset;
      return after === undefined || compareOffsets(after, offsetAfter(last.offset)) >= 0;
    } catch (error) {
      logger.warn("cannot tell whether the partition's log was replaced; asking again", {
        partition,
        error: errorMessage(error),
      });
      return undefined;
    }
  }

  /** The partition's first record still on the broker (offset 0 if the broker cannot say). */
  async firstOffset(partition: number): Promise<string> {
    const { admin, topic, timeoutMs, logger } = this.opts;
    try {
      const offsets = await withDeadline(admin.fetchTopicOffsets(topic), timeoutMs, "offsets");
      return offsets.find((o) => o.partition === partition)?.low ?? "0";
    } catch (error) {
      logger.warn("first offset unknown; reading the partition from offset 0", {
        partition,
        error: errorMessage(error),
      });
      return "0";
    }
  }

  /**
   * Counts the records the broker removed (retention, or records deleted by hand) before the store had them: a
   * stored position below the partition's first offset, on the same log (the broker still orders the position's
   * record before that offset). Run on each group join and whenever kafkajs finds its position out of range.
   */
  async countExpired(stored: Promise<Map<number, Position>>): Promise<void> {
    const { admin, topic, timeoutMs, logger, metrics } = this.opts;
    try {
      const [positions, offsets] = await Promise.all([
        stored,
        withDeadline(admin.fetchTopicOffsets(topic), timeoutMs, "offsets"),
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
        metrics?.recordsExpired.inc(records);
        logger.error("the broker removed records before they were stored (retention)", {
          partition,
          from: position.next,
          to: low,
          records,
        });
      }
    } catch (error) {
      logger.warn("cannot tell whether records expired before they were stored", {
        error: errorMessage(error),
      });
    }
  }
}
