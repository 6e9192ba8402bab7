// The log store: the consumer writes batches exactly once in effect; the gateway reads pages, search, stats, tail.

import type { LogEvent, StoredLogEvent } from "../domain/log-event.ts";
import type { Position } from "../domain/offsets.ts";
import type { LogPage, LogQuery, SearchQuery, Stats, StatsQuery, TailQuery } from "../domain/query.ts";
import type { Health, Lifecycle } from "./log-bus.ts";

/** An event together with where it came from on the bus. */
export interface SourcedEvent {
  event: LogEvent;
  partition: number;
  offset: string;
  /** When the event's record was appended to the bus (epoch ms), if the bus says. */
  appendedMs?: number;
}

export interface WriteBatch {
  /** Consumer group and topic: offsets are kept per (group, topic, partition). */
  group: string;
  topic: string;
  events: SourcedEvent[];
  /** Next offset to read for each partition once this batch is stored (covers dead-lettered records too). */
  nextOffsets: Map<number, string>;
  /** When the record before each of nextOffsets was appended (epoch ms): kept with the offset (see Position). */
  appendedMs?: ReadonlyMap<number, number>;
  /** From a bus with no log across restarts: offsets are neither checked nor kept, ids alone dedupe. */
  transient?: boolean;
}

export interface WriteResult {
  inserted: number;
  /** Events skipped because their id was already stored or their offset already consumed. */
  duplicates: number;
}

/** An event the writer can never store (prepare() found it), with the reason. */
export interface Unstorable {
  index: number;
  error: string;
}

/** What stores batches: a writer, or one of its lanes. */
export type BatchWriter = Pick<LogWriter, "write" | "prepare" | "stage">;

export interface LogWriter extends Lifecycle {
  /** Stores the batch and advances the offsets in one transaction; a retried batch adds nothing. */
  write(batch: WriteBatch): Promise<WriteResult>;
  /**
   * Optional work ahead of write(): checks and encodes these events (kept by the writer for the write() that
   * gets them) and returns those it can never store. Pure CPU, no I/O; write() works without it.
   */
  prepare?(events: readonly SourcedEvent[]): Unstorable[];
  /**
   * Optional: the batch that write() will most likely get next (the same events array), announced while the
   * current write is in flight so the writer can start on it early. A write() of anything else undoes it.
   */
  stage?(batch: WriteBatch): void;
  /**
   * Optional: another writer on connections of its own, to write batches concurrently with this one and the
   * others (the consumer's lanes; their batches hold different partitions). It stops with this writer.
   */
  lane?(): BatchWriter;
  /** Where write() last left each partition for this group and topic. */
  committedPositions(group: string, topic: string): Promise<Map<number, Position>>;
  /**
   * Retention: removes every event stored for a day before (today - days), UTC, with what indexes and counts
   * it (search, rollups), so reads agree with the rows left. Returns what was removed, for the log.
   */
  retain(days: number): Promise<string[]>;
  health(): Promise<Health>;
}

export interface LogReader extends Lifecycle {
  page(q: LogQuery): Promise<LogPage>;
  search(q: SearchQuery): Promise<LogPage>;
  stats(q: StatsQuery): Promise<Stats>;
  findById(id: string): Promise<StoredLogEvent | undefined>;
  /** Events stored after q.afterSeq, in arrival order (oldest first). */
  tail(q: TailQuery): Promise<StoredLogEvent[]>;
  /** Highest arrival sequence committed so far (0 when empty): anything cached before it moved is still exact. */
  watermark(): Promise<number>;
  health(): Promise<Health>;
}
