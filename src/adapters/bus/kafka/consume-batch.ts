// One kafkajs eachBatch call: skip what the store already holds, hand slices to the merger, resolve after success.

import type { EachBatchPayload } from "kafkajs";
import type { Logger } from "../../../observability/logger.ts";
import { type BatchMerger, type CommitNext, HandlerFailure } from "./batch-merger.ts";
import { toBusRecord } from "./messages.ts";
import { errorMessage, sleep, withDeadline } from "./timing.ts";

/** Next offset to handle per partition, as this subscriber has handled them. */
export type PartitionPositions = Map<number, string>;

export interface BatchSource {
  merger: BatchMerger;
  maxBatch: number;
  /** Aborted when the subscriber stops. */
  signal: AbortSignal;
  positions: PartitionPositions;
  /** Next offsets the store committed (loaded on each group join), if the role provided them. */
  startOffsets: () => Promise<Map<number, bigint>> | undefined;
  onHandled: (count: number) => void;
  logger: Logger;
}

// kafkajs sends a heartbeat at most every heartbeatInterval (3 s) however often we ask.
const HEARTBEAT_EVERY_MS = 1000;

const nextOf = (offset: string): string => (BigInt(offset) + 1n).toString();

/** Keeps the group membership alive while a long handler call (a slow COPY) runs. */
const whileHeartbeating = async <T>(
  payload: EachBatchPayload,
  work: Promise<T>,
  logger: Logger,
): Promise<T> => {
  const timer = setInterval(() => {
    payload
      .heartbeat()
      .catch((error: unknown) => logger.debug("heartbeat failed", { error: errorMessage(error) }));
  }, HEARTBEAT_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
};

/**
 * Waits before the failed records are fetched again, heartbeating so the group keeps the partitions.
 * A failed heartbeat means a rebalance: return at once and let kafkajs rejoin (the records come again).
 */
const backOff = async (ms: number, payload: EachBatchPayload, src: BatchSource): Promise<void> => {
  const until = Date.now() + ms;
  while (Date.now() < until && !src.signal.aborted && payload.isRunning()) {
    await sleep(Math.min(HEARTBEAT_EVERY_MS, until - Date.now()), src.signal);
    try {
      await payload.heartbeat();
    } catch (error) {
      src.logger.debug("heartbeat failed during backoff", { error: errorMessage(error) });
      return;
    }
  }
};

/**
 * Offsets are resolved (kafkajs' fetch position) only for records the handler accepted; returning without
 * resolving makes kafkajs fetch the same records again, which is how a failed batch is redelivered.
 */
export const consumeBatch = async (
  payload: EachBatchPayload,
  src: BatchSource,
  commit: CommitNext,
): Promise<void> => {
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
      src.positions.set(partition, nextOf(lastSkipped.offset));
      await commit(new Map([[partition, nextOf(lastSkipped.offset)]]));
      return;
    }
  }

  for (let i = 0; i < records.length; i += src.maxBatch) {
    if (!live()) return;
    const slice = records.slice(i, i + src.maxBatch);
    try {
      await whileHeartbeating(payload, src.merger.submit(slice, commit), src.logger);
    } catch (error) {
      if (error instanceof HandlerFailure) await backOff(error.retryInMs, payload, src);
      // Stopping: keep kafkajs from fetching these records again until the consumer is gone.
      else if (src.signal.aborted) payload.pause();
      else {
        // Anything else (a heartbeat or commit refused mid-rebalance, a merger interrupted): never park the
        // partition, or it would stall for good; wait a little and let kafkajs fetch the records again.
        src.logger.warn("batch interrupted; it will be fetched again", {
          error: errorMessage(error),
          partition,
        });
        await backOff(1000, payload, src);
      }
      return;
    }
    const last = slice[slice.length - 1];
    if (!last) return;
    resolveOffset(last.offset);
    src.positions.set(partition, nextOf(last.offset));
    src.onHandled(slice.length);
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

/** Commit failures are logged, not fatal: the store holds the offsets too, and a redelivery is deduped. */
export const kafkaCommitter =
  (payload: EachBatchPayload, topic: string, onError: (error: unknown) => void): CommitNext =>
  async (next) => {
    const partitions = [...next].map(([partition, offset]) => ({ partition, offset }));
    try {
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions }] });
    } catch (error) {
      onError(error);
    }
  };
