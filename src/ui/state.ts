// The explorer's query state and its URL form: everything a shared link needs to reproduce the view.

import { LEVELS } from "../domain/level.ts";

export const RANGES = {
  "15m": 15 * 60_000,
  "1h": 3_600_000,
  "24h": 86_400_000,
  "7d": 7 * 86_400_000,
} as const;
export type RangeKey = keyof typeof RANGES;

export interface QueryState {
  q: string;
  levels: string[];
  sources: string[];
  /** A relative range ending now, or "abs" for [from, to]. */
  range: RangeKey | "abs";
  from: number;
  to: number;
  live: boolean;
  stats: boolean;
}

export interface TimeWindow {
  start: number;
  end: number;
}

export const DEFAULT_RANGE: RangeKey = "15m";
export const WIDENED_RANGE: RangeKey = "24h";

const isRange = (v: string | null): v is RangeKey => v !== null && Object.hasOwn(RANGES, v);

const list = (v: string | null): string[] =>
  v
    ? [
        ...new Set(
          v
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ]
    : [];

const time = (v: string | null): number | undefined => {
  if (!v) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
};

/** The state a URL describes; `explicitRange` is false when the link left the range to the default. */
export const fromUrl = (search: string): { state: QueryState; explicitRange: boolean } => {
  const p = new URLSearchParams(search);
  const from = time(p.get("from"));
  const to = time(p.get("to"));
  const absolute = from !== undefined && to !== undefined && from <= to;
  const range = absolute ? "abs" : isRange(p.get("range")) ? (p.get("range") as RangeKey) : DEFAULT_RANGE;
  const known = new Set<string>(LEVELS);
  return {
    state: {
      q: p.get("q") ?? "",
      levels: list(p.get("level"))
        .map((l) => l.toUpperCase())
        .filter((l) => known.has(l)),
      sources: list(p.get("source")),
      range,
      from: from ?? 0,
      to: to ?? 0,
      live: p.get("live") === "1",
      stats: p.get("view") === "stats",
    },
    explicitRange: absolute || isRange(p.get("range")),
  };
};

export const toUrl = (s: QueryState): string => {
  const p = new URLSearchParams();
  if (s.q.trim()) p.set("q", s.q.trim());
  if (s.levels.length) p.set("level", s.levels.join(","));
  if (s.sources.length) p.set("source", s.sources.join(","));
  if (s.range === "abs") {
    p.set("from", new Date(s.from).toISOString());
    p.set("to", new Date(s.to).toISOString());
  } else p.set("range", s.range);
  if (s.live) p.set("live", "1");
  if (s.stats) p.set("view", "stats");
  return `?${p.toString()}`;
};

/** The absolute window of a state at `now`; a relative range is pinned once so every page agrees. */
export const resolveWindow = (s: QueryState, now: number): TimeWindow =>
  s.range === "abs" ? { start: s.from, end: s.to } : { start: now - RANGES[s.range], end: now };

/** The filter parameters every query endpoint shares. */
export const filterParams = (s: QueryState): Record<string, string | undefined> => ({
  level: s.levels.length ? s.levels.join(",") : undefined,
  source: s.sources.length ? s.sources.join(",") : undefined,
  query: s.q.trim() || undefined,
});
