// The query model shared by the gateway and every store: filters, pages, search, stats, tail.

import type { Cursor } from "./cursor.ts";
import type { Level } from "./level.ts";
import type { StoredLogEvent } from "./log-event.ts";
import type { SearchTerms } from "./search-syntax.ts";

export interface LogFilter {
  /** Inclusive lower bound on event time, epoch ms. */
  start: number;
  /** Inclusive upper bound on event time, epoch ms. */
  end: number;
  /** Empty = every level. */
  levels: Level[];
  /** Empty = every source. */
  sources: string[];
}

export interface LogQuery extends LogFilter {
  size: number;
  /** Zero-based page number; ignored when a cursor is given. */
  page: number;
  /** Continue strictly after this item in (timestamp desc, id desc) order. */
  cursor?: Cursor;
  /**
   * Snapshot bound: only events with seq <= maxSeq (the watermark the first page was read at). Every page
   * of one listing uses the same bound, so pages never shift while events arrive, and a live tail from
   * maxSeq continues exactly where the listing stops. Undefined = no bound.
   */
  maxSeq?: number;
}

export interface SearchQuery extends LogQuery {
  terms: SearchTerms;
}

export interface PageItem extends StoredLogEvent {
  /** For search: the query terms this event matched. */
  matched?: string[];
}

export interface LogPage {
  items: PageItem[];
  /** Matching events in the window (exact when totalExact, else an estimate or lower bound). */
  total: number;
  totalExact: boolean;
  /** True when more items follow the last one returned. */
  hasMore: boolean;
}

/** Exact totals are counted up to this many rows; past it the store answers an estimate. */
export const EXACT_TOTAL_BOUND = 10_000;

export interface StatsQuery {
  start: number;
  end: number;
  /** Width of one histogram bucket, ms (a multiple of one minute). */
  bucketMs: number;
  /** Most sources listed by count (STATS_MAX_SOURCES); the others are summed in otherSources. */
  maxSources: number;
}

/** Events by level: a null-prototype object (see emptyCounts). */
export type LevelCounts = Partial<Record<Level, number>>;

export interface HistogramBucket {
  start: number;
  count: number;
  levels: LevelCounts;
}

/** Counts keyed by client text are null-prototype objects (emptyCounts): any source name is a plain key. */
export interface Stats {
  totalLogs: number;
  levelCounts: LevelCounts;
  /** The maxSources sources with the most events (ties by name). */
  sourceCounts: Record<string, number>;
  /** Events of every source not in sourceCounts: totalLogs = Σ sourceCounts + otherSources. */
  otherSources: number;
  histogram: HistogramBucket[];
}

export interface TailQuery {
  /** Only events stored after this arrival sequence. */
  afterSeq: number;
  /**
   * Only events with seq <= untilSeq (a watermark the caller read). When the reader returns fewer than
   * `limit` events, it must have examined every event up to untilSeq: the caller then resumes after it,
   * so a filter that matches nothing never rescans the same rows.
   */
  untilSeq?: number;
  levels: Level[];
  sources: string[];
  terms?: SearchTerms;
  limit: number;
}
