// Counts of a batch per (minute, level, source), computed in JS so one unnest statement upserts every rollup.

import type { LogEvent } from "../../../domain/log-event.ts";
import { MINUTE } from "./rollup.ts";

/** Parallel arrays, one entry per (minute, level, source), sorted so concurrent upserts lock rows in one order. */
export interface RollupRows {
  minutes: string[];
  levels: string[];
  sources: string[];
  counts: number[];
}

export const rollupRows = (events: readonly LogEvent[]): RollupRows => {
  // minute -> level -> source -> count: nested, so no separator can make two keys collide.
  const byMinute = new Map<number, Map<string, Map<string, number>>>();
  for (const e of events) {
    const minute = Math.floor(e.timestamp / MINUTE) * MINUTE;
    let byLevel = byMinute.get(minute);
    if (!byLevel) {
      byLevel = new Map();
      byMinute.set(minute, byLevel);
    }
    let bySource = byLevel.get(e.level);
    if (!bySource) {
      bySource = new Map();
      byLevel.set(e.level, bySource);
    }
    bySource.set(e.source, (bySource.get(e.source) ?? 0) + 1);
  }
  const out: RollupRows = { minutes: [], levels: [], sources: [], counts: [] };
  const codeUnitOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  for (const minute of [...byMinute.keys()].sort((a, b) => a - b)) {
    const byLevel = byMinute.get(minute) as Map<string, Map<string, number>>;
    const at = new Date(minute).toISOString();
    for (const level of [...byLevel.keys()].sort(codeUnitOrder)) {
      const bySource = byLevel.get(level) as Map<string, number>;
      for (const source of [...bySource.keys()].sort(codeUnitOrder)) {
        out.minutes.push(at);
        out.levels.push(level);
        out.sources.push(source);
        out.counts.push(bySource.get(source) as number);
      }
    }
  }
  return out;
};
