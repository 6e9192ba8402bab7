// Histogram buckets for a time window: exact ones from the matching events, or the server's stats buckets.

import { fetchPage, fetchStatsSince, type LogItem, type Page, type StatsAnswer } from "./api.ts";
import { formatSpan } from "./dom.ts";
import type { QueryState, TimeWindow } from "./state.ts";

export interface Bucket {
  start: number;
  end: number;
  total: number;
  levels: Record<string, number>;
}

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const WIDTHS = [
  S,
  2 * S,
  5 * S,
  10 * S,
  15 * S,
  30 * S,
  M,
  2 * M,
  5 * M,
  10 * M,
  15 * M,
  30 * M,
  H,
  2 * H,
  3 * H,
  6 * H,
  12 * H,
  24 * H,
];
const MAX_BUCKETS = 60;

/** A round width giving at most `count` (~60) buckets over the span. */
export const widthFor = (spanMs: number, count = MAX_BUCKETS): number => {
  for (const w of WIDTHS) if (spanMs / w <= count) return w;
  return 24 * H * Math.ceil(spanMs / (count * 24 * H));
};

const emptyBuckets = (w: TimeWindow, width: number): Bucket[] => {
  const out: Bucket[] = [];
  for (let t = Math.floor(w.start / width) * width; t <= w.end; t += width)
    out.push({ start: t, end: t + width, total: 0, levels: {} });
  return out;
};

const add = (b: Bucket, level: string, n: number): void => {
  b.levels[level] = (b.levels[level] ?? 0) + n;
  b.total += n;
};

/** Exact counts of the given events (every match of the query), stacked by level. */
export const fromEvents = (items: readonly LogItem[], w: TimeWindow): Bucket[] => {
  const width = widthFor(Math.max(1, w.end - w.start));
  const buckets = emptyBuckets(w, width);
  const first = buckets[0]?.start ?? w.start;
  for (const e of items) {
    const b = buckets[Math.floor((Date.parse(e.timestamp) - first) / width)];
    if (b) add(b, e.level, 1);
  }
  return buckets;
};

/** The stats buckets overlapping the window, keeping only the chosen levels (all when none is chosen). */
export const fromStats = (stats: StatsAnswer, w: TimeWindow, levels: readonly string[]): Bucket[] => {
  const starts = stats.histogram.map((b) => Date.parse(b.start));
  const width = starts.length > 1 ? (starts[1] ?? 0) - (starts[0] ?? 0) : M;
  const keep = (l: string) => levels.length === 0 || levels.includes(l);
  const out: Bucket[] = [];
  stats.histogram.forEach((src, i) => {
    const start = starts[i] ?? 0;
    if (start + width <= w.start || start > w.end) return;
    const b: Bucket = { start, end: start + width, total: 0, levels: {} };
    for (const [l, n] of Object.entries(src.levels)) if (keep(l)) add(b, l, n);
    out.push(b);
  });
  return out;
};

/** Up to this many matches, the chart counts the events themselves: exact, and every filter applies. */
const EXACT_LIMIT = 1000;

/**
 * The chart for a query whose first page is `first`, with its caption: exact from the events when they are
 * few, else the stats endpoint's buckets (which know levels but neither sources nor search text).
 */
export const chartData = async (
  first: Page,
  params: Record<string, string | undefined>,
  w: TimeWindow,
  state: QueryState,
  signal: AbortSignal,
): Promise<{ buckets: Bucket[]; caption: string }> => {
  let buckets: Bucket[];
  let what = "Matching events";
  if (first.totalElementsExact && first.totalElements <= EXACT_LIMIT) {
    const items = first.last
      ? first.content
      : (await fetchPage({ ...params, size: String(EXACT_LIMIT) }, signal)).content;
    buckets = fromEvents(items, w);
  } else {
    buckets = fromStats(await fetchStatsSince(w.start, signal), w, state.levels);
    what =
      state.q || state.sources.length
        ? "All events of the chosen levels (stats filter no source or text)"
        : "Events";
  }
  const width = buckets[0] ? buckets[0].end - buckets[0].start : 0;
  return {
    buckets,
    caption: `${what} per ${formatSpan(width)} · drag across the chart to zoom in, Back to zoom out`,
  };
};
