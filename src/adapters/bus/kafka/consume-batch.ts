// One kafkajs eachBatch call: skip what the store already holds, hand slices to the merger while it has room.

import type { EachBatchPayload } from "kafkajs";
import {
  compareOffsets,
  handledBefore,
  lastCovered,
  offsetAfter,
  type Position,
  type Taken,
} from "../../../domain/offsets.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { BusRecord } from "../../../ports/log-bus.ts";
import { recordEvents, recordsBytes } from "../record-bytes.ts";
import { type BatchMerger, MergerClosed } from "./batch-merger.ts";
import type { PartitionLanes } from "./lanes.ts";
import { toBusRecord } from "./messages.ts";
import { errorMessage, withDeadline } from "./timing.ts";

/** Next offset to handle per partition, as this subscriber has handled them. */
export type PartitionPositions = Map<number, string>;

export interface PartitionLog {
  high: string;
  last?: Taken;
}

/** Commits "next offset to read" per partition on the bus; must not throw. */
export type CommitNext = (next: Map<number, string>) => Promise<void>;

export interface BatchSource {
  /** The mergers, one per writer lane, and which one each partition's records go to. */
  lanes: PartitionLanes;
  maxBatch: number;
  /** Aborted when the subscriber stops. */
  signal: AbortSignal;
  positions: PartitionPositions;
  /** Where the store left each partition (loaded on each group join), if the role provided them. */
  startOffsets: () => Promise<Map<number, Position>> | undefined;
  /** The log read so far, per partition: its highest high watermark and the last record taken from it. */
  logs: Map<number, PartitionLog>;
  /** Partitions whose log may have been replaced (the topic went missing): checked before their next batch. */
  doubted: Set<number>;
  /** Whether the partition still holds the record `last` was taken from (undefined: the broker cannot say now). */
  verify: (partition: number, last: Taken) => Promise<boolean | undefined>;
  /**
   * Fetches the partition again from its first record (its log is not the one read so far). Resolves once the
   * consumer has the new position: a batch kafkajs fetched before is then stale.
   */
  rewind: (partition: number) => Promise<void>;
  commit: CommitNext;
  logger: Logger;
}

// kafkajs sends a heartbeat at most every heartbeatInterval (a third of the session) however often we ask.
const HEARTBEAT_EVERY_MS = 1000;

/**
 * Waits (heartbeating, so the group keeps the partition) until the merger makes room. False when the call
 * should give up instead: stopping, or a failed heartbeat (a rebalance: kafkajs must be let rejoin).
 */
const waitForRoom = async (
  payload: EachBatchPayload,
  src: BatchSource,
  merger: BatchMerger,
  live: () => boolean,
): Promise<boolean> => {
  await merger.waitForRoom(HEARTBEAT_EVERY_MS);
  if (!live()) return false;
  try {
    await payload.heartbeat();
    return true;
  } catch (error) {
    src.logger.debug("heartbeat failed while waiting for room", { error: errorMessage(error) });
    return false;
  }
};

/**
 * Offsets are resolved (kafkajs' fetch position) for the records the merger accepted, so kafkajs fetches
 * the next records while these are written; the merger commits offsets only after the store has the rows.
 * Records not accepted (no room before a rebalance or a stop) are left unresolved and come again.
 */
export const consumeBatch = async (payload: EachBatchPayload, src: BatchSource): Promise<void> => {
  const { batch, resolveOffset, isRunning, isStale } = payload;
  const live = () => !src.signal.aborted && isRunning() && !isStale();
  if (!live() || batch.messages.length === 0) return;
  const partition = batch.partition;
  const start = (await src.startOffsets())?.get(partition);
  const log = await logOf(src, partition, batch.highWatermark, start);
  // Nothing of this batch is resolved: kafkajs fetches it again, from where rewind() puts the partition.
  if (log === "unknown") return;
  if (log === "another") {
    await src.rewind(partition);
    return;
  }
  let records = batch.messages.map((m) => toBusRecord(partition, m));
  const first = records[0];
  if (first !== undefined && handledBefore(start, first.offset, first.timestamp)) {
    // The records the store already has come first; one it has not (a later offset, or a record appended
    // after the store's position: the topic was created again) ends them.
    const keep = records.findIndex((r) => !handledBefore(start, r.offset, r.timestamp));
    const skipped = records.slice(0, keep === -1 ? records.length : keep);
    records = keep === -1 ? [] : records.slice(keep);
    const lastSkipped = skipped[skipped.length - 1];
    if (records.length === 0 && lastSkipped) {
      // The store already has all of them: move on and let Kafka's committed offset catch up.
      took(src, partition, lastSkipped);
      resolveOffset(lastSkipped.offset);
      src.positions.set(partition, offsetAfter(lastSkipped.offset));
      await src.commit(new Map([[partition, offsetAfter(lastSkipped.offset)]]));
      return;
    }
  }

  for (let i = 0; i < records.length; ) {
    // Whole records of at most maxBatch events (one larger record alone): a packed record counts its events.
    let end = i;
    let events = 0;
    while (
      end < records.length &&
      (end === i || events + recordEvents(records[end] as BusRecord) <= src.maxBatch)
    )
      events += recordEvents(records[end++] as BusRecord);
    const slice = records.slice(i, end);
    i = end;
    const last = slice[slice.length - 1];
    if (!last || !live()) return;
    // Checked again right before submit, with no await between: concurrent calls cannot overfill it, and the
    // partition's lane is the one it is bound to then.
    const bytes = recordsBytes(slice);
    let merger = src.lanes.mergerOf(partition);
    while (!merger.hasRoom(events, bytes)) {
      if (!(await waitForRoom(payload, src, merger, live))) return;
      merger = src.lanes.mergerOf(partition);
    }
    try {
      merger.submit(slice);
    } catch (error) {
      if (error instanceof MergerClosed) return;
      throw error;
    }
    src.lanes.submitted(partition, merger, slice.length);
    took(src, partition, last);
    resolveOffset(last.offset);
  }
};

const took = (src: BatchSource, partition: number, r: BusRecord): void => {
  const log = src.logs.get(partition);
  if (log) log.last = { offset: r.offset, timestamp: r.timestamp };
};

/**
 * Whether the partition's records still come from the log read so far. A topic deleted and created again (or a
 * broker that lost its data) gives the partition a new log from offset 0, and kafkajs keeps fetching from the
 * old position: past records nobody has read. It shows as a high watermark that went back, or as the topic gone
 * missing for a while (doubted); the broker then says whether it still holds the last record taken (before
 * any, the last one the store's position covers). The store's positions carry append times too, so the new
 * log's records are not mistaken for stored ones.
 */
const logOf = async (
  src: BatchSource,
  partition: number,
  high: string,
  start: Position | undefined,
): Promise<"same" | "another" | "unknown"> => {
  const log = src.logs.get(partition);
  if (!log) {
    src.logs.set(partition, { high });
    return "same";
  }
  // A high watermark can also go back for a moment when another broker becomes the partition's leader: the
  // broker decides, as for a doubt.
  const shorter = compareOffsets(high, log.high) < 0;
  if (!shorter && !src.doubted.has(partition)) {
    log.high = high;
    return "same";
  }
  const last = log.last ?? lastCovered(start);
  const same = last ? await src.verify(partition, last) : true;
  // Unanswered: the doubt (or the lower watermark) stays, and the batch comes again.
  if (same === undefined) return "unknown";
  src.doubted.delete(partition);
  if (same) {
    log.high = high;
    return "same";
  }
  src.logs.set(partition, { high });
  src.logger.warn(
    "the partition holds another log than the one read so far (the topic was created again?): reading it from its start",
    { partition, highWatermark: high, lastOffsetRead: last?.offset },
  );
  return "another";
};

/** The store's positions, loaded on each group join; unavailable means "rely on Kafka's" (the store dedupes). */
export const loadStartOffsets = (
  load: () => Promise<Map<number, Position>>,
  logger: Logger,
  timeoutMs: number,
): Promise<Map<number, Position>> =>
  withDeadline(Promise.resolve().then(load), timeoutMs, "startOffsets timed out").catch((error: unknown) => {
    logger.warn("stored offsets unavailable; relying on Kafka's", { error: errorMessage(error) });
    return new Map<number, Position>();
  });
