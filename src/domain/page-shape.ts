// The JSON shapes of query responses, kept identical to the design we replace (Spring Data's Page).

import { encodeCursor } from "./cursor.ts";
import type { StoredLogEvent } from "./log-event.ts";
import type { LogPage, LogQuery, PageItem, Stats } from "./query.ts";
import { toIso } from "./time.ts";

export const eventJson = (e: StoredLogEvent | PageItem) => ({
  id: e.id,
  level: e.level,
  message: e.message,
  source: e.source,
  timestamp: toIso(e.timestamp),
  metadata: e.metadata,
  createdAt: toIso(e.createdAt),
  cursor: encodeCursor({ ts: e.timestamp, id: e.id, seq: e.seq }),
  ...("matched" in e && e.matched ? { matched: e.matched } : {}),
});

export const pageJson = (q: LogQuery, p: LogPage) => {
  const last = p.items[p.items.length - 1];
  const totalPages = Math.ceil(p.total / q.size);
  const number = q.cursor ? 0 : q.page;
  return {
    content: p.items.map(eventJson),
    totalElements: p.total,
    totalElementsExact: p.totalExact,
    totalPages,
    size: q.size,
    number,
    first: number === 0 && !q.cursor,
    last: !p.hasMore,
    numberOfElements: p.items.length,
    empty: p.items.length === 0,
    nextCursor: p.hasMore && last ? encodeCursor({ ts: last.timestamp, id: last.id, seq: last.seq }) : null,
  };
};

export const statsJson = (s: Stats, since: number, until: number) => ({
  totalLogs: s.totalLogs,
  levelCounts: s.levelCounts,
  sourceCounts: s.sourceCounts,
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
