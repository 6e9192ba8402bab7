// The log bus: producers publish validated events; the consumer reads them in batches across partitions.

import type { LogEvent } from "../domain/log-event.ts";

export interface Health {
  ok: boolean;
  /** Why it is not ok, or a short state description. */
  detail?: string;
}

export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PublishOptions {
  /**
   * Nobody waits for the answer (the async endpoint already answered 202): the events are not dropped from a
   * publisher's queue when a waiting client's time bound passes, only when the bus itself refuses them.
   */
  detached?: boolean;
}

export interface LogPublisher extends Lifecycle {
  /** Resolves once the bus has durably accepted every event (Kafka: acks=all); rejects otherwise. */
  publish(events: LogEvent[], opts?: PublishOptions): Promise<void>;
  health(): Promise<Health>;
}

/** One message as read from the bus. */
export interface BusRecord {
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets exceed 2^53 in theory). */
  offset: string;
  key: string | null;
  value: Uint8Array | null;
  /** Broker append time, epoch ms. */
  timestamp: number;
  /** How many events the record says it holds (a packed record); absent: one. Batches are sized by it. */
  events?: number;
  /**
   * The event itself, when the record never left this process (the in-process bus): the producer validated
   * it and `value` is its encoding, so the consumer takes it as it is instead of decoding `value` again.
   */
  event?: LogEvent;
}

export interface BusBatch {
  topic: string;
  records: BusRecord[];
  /**
   * The bus keeps no log across restarts (the in-process bus): its offsets start again with the process, so
   * they say nothing about what the store holds. Such a batch is deduplicated by event id alone.
   */
  transient?: boolean;
}

/** A poison message on its way to the dead-letter destination. */
export interface DeadLetter {
  record: BusRecord;
  topic: string;
  reason: string;
  error: string;
}

/**
 * Handles one batch; when it resolves the batch's records count as processed and their offsets may be
 * committed. When it rejects, the same records are delivered again (after the subscriber's backoff).
 *
 * A subscriber that already holds the next batch while the current one is being handled may pass it to
 * `prepare` (the same object it will hand to the handler later), so the handler's CPU work on it (decoding,
 * encoding) runs while the current batch waits on I/O. Preparing has no effect that outlives the process.
 */
export interface BatchHandler {
  (batch: BusBatch): Promise<void>;
  prepare?: (batch: BusBatch) => void;
}

export interface LogSubscriber extends Lifecycle {
  /**
   * Starts delivering batches to the handler; resolves once consumption is running. Several handlers are
   * lanes that write concurrently, on a bus with partitions: each partition's records go to one lane at a
   * time, in order. A bus without partitions hands everything to the first.
   */
  run(handlers: BatchHandler | readonly BatchHandler[]): Promise<void>;
  deadLetter(letters: DeadLetter[]): Promise<void>;
  health(): Promise<Health>;
  /** Messages behind the head, per partition (for the lag metric). */
  lag(): Promise<Map<number, number>>;
}
