// The JSON shapes of query responses, kept identical to the design we replace (Spring Data's Page).

import { encodeCursor } from "./cursor.ts";
import type { StoredLogEvent } from "./log-event.ts";
import type { LogPage, LogQuery, PageItem, Stats } from "./query.ts";
import { MAX_TIME_MS, toIso } from "./time.ts";

/**
 * One event. `cursor` continues from this event: paging back (cursor=) lists what is older in event time,
 * tailing forward (Last-Event-ID) what arrived after `seq`. In a listing, `seq` is the listing's snapshot,
 * so every item's cursor splits history and live at the same point; in the tail it is the event's own.
 */
export const eventJson = (e: StoredLogEvent | PageItem, seq: number = e.seq) => ({
  id: e.id,
  level: e.level,
  message: e.message,
  source: e.source,
  timestamp: toIso(e.timestamp),
  metadata: e.metadata,
  createdAt: toIso(e.createdAt),
  cursor: encodeCursor({ ts: e.timestamp, id: e.id, seq }),
  ...("matched" in e && e.matched ? { matched: e.matched } : {}),
});

/** The cursor of a point before every event: pages back over everything up to `seq`, tails after it. */
export const startCursor = (seq: number): string => encodeCursor({ ts: MAX_TIME_MS + 1, id: "", seq });

/**
 * A page of a listing read at snapshot `seq`. `nextCursor` is always present: it continues the listing
 * (no gap, no duplicate: the snapshot pins it) and, as Last-Event-ID, tails everything newer than it.
 * `last` says whether another page follows. With a cursor, `number` echoes the client's `page`.
 */
export const pageJson = (q: LogQuery, p: LogPage, seq: number) => {
  const last = p.items[p.items.length - 1];
  const next = last
    ? encodeCursor({ ts: last.timestamp, id: last.id, seq })
    : q.cursor
      ? encodeCursor({ ts: q.cursor.ts, id: q.cursor.id, seq })
      : startCursor(seq);
  return {
    content: p.items.map((e) => eventJson(e, seq)),
    totalElements: p.total,
    totalElementsExact: p.totalExact,
    totalPages: Math.ceil(p.total / q.size),
    size: q.size,
    number: q.page,
    first: !q.cursor && q.page === 0,
    last: !p.hasMore,
    numberOfElements: p.items.length,
    empty: p.items.length === 0,
    nextCursor: next,
  };
};

export const statsJson = (s: Stats, since: number, until: number) => ({
  totalLogs: s.totalLogs,
  levelCounts: s.levelCounts,
  sourceCounts: s.sourceCounts,
  otherSources: s.otherSources,
  timeRange: { since: toIso(since), until: toIso(until) },
  histogram: s.histogram.map((b) => ({ start: toIso(b.start), count: b.count, levels: b.levels })),
});

const MINUTE = 60_000;
const BUCKET_MINUTES = [1, 5, 15, 30, 60, 180, 360, 720, 1440];

/** A histogram bucket width (a whole number of minutes) giving at most ~60 buckets. */
export const bucketFor = (windowMs: number): number => {
  for (const m of BUCKET_MINUTES) if (windowMs / (m * MINUTE) <= 60) return m * MINUTE;
  return 1440 * MINUTE * Math.ceil(windowMs / (60 * 1440 * MINUTE));
};
