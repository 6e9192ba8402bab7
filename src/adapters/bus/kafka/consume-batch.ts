// One kafkajs eachBatch call: skip what the store already holds, hand slices to the merger while it has room.

import type { EachBatchPayload } from "kafkajs";
import { offsetAfter } from "../../../domain/offsets.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { BusRecord } from "../../../ports/log-bus.ts";
import { recordEvents, recordsBytes } from "../record-bytes.ts";
import { type BatchMerger, MergerClosed } from "./batch-merger.ts";
import { toBusRecord } from "./messages.ts";
import { errorMessage, withDeadline } from "./timing.ts";

/** Next offset to handle per partition, as this subscriber has handled them. */
export type PartitionPositions = Map<number, string>;

/** Commits "next offset to read" per partition on the bus; must not throw. */
export type CommitNext = (next: Map<number, string>) => Promise<void>;

export interface BatchSource {
  merger: BatchMerger;
  maxBatch: number;
  /** Aborted when the subscriber stops. */
  signal: AbortSignal;
  positions: PartitionPositions;
  /** Next offsets the store committed (loaded on each group join), if the role provided them. */
  startOffsets: () => Promise<Map<number, bigint>> | undefined;
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
  live: () => boolean,
): Promise<boolean> => {
  await src.merger.waitForRoom(HEARTBEAT_EVERY_MS);
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
  let records = batch.messages.map((m) => toBusRecord(partition, m));

  const start = (await src.startOffsets())?.get(partition);
  const first = records[0];
  if (start !== undefined && first !== undefined && BigInt(first.offset) < start) {
    const keep = records.findIndex((r) => BigInt(r.offset) >= start);
    const skipped = records.slice(0, keep === -1 ? records.length : keep);
    records = keep === -1 ? [] : records.slice(keep);
    const lastSkipped = skipped[skipped.length - 1];
    if (records.length === 0 && lastSkipped) {
      // The store already has all of them: move on and let Kafka's committed offset catch up.
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
    // Checked again right before submit, with no await between: concurrent calls cannot overfill it.
    const bytes = recordsBytes(slice);
    while (!src.merger.hasRoom(events, bytes)) if (!(await waitForRoom(payload, src, live))) return;
    try {
      src.merger.submit(slice);
    } catch (error) {
      if (error instanceof MergerClosed) return;
      throw error;
    }
    resolveOffset(last.offset);
  }
};

/** The store's offsets, loaded on each group join; unavailable means "rely on Kafka's" (the store dedupes). */
export const loadStartOffsets = (
  load: () => Promise<Map<number, string>>,
  logger: Logger,
  timeoutMs: number,
): Promise<Map<number, bigint>> =>
  withDeadline(Promise.resolve().then(load), timeoutMs, "startOffsets timed out").then(
    (offsets) => new Map([...offsets].map(([p, o]) => [p, BigInt(o)])),
    (error: unknown) => {
      logger.warn("stored offsets unavailable; relying on Kafka's", { error: errorMessage(error) });
      return new Map<number, bigint>();
    },
  );
