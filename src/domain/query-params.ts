// HTTP query parameters → the query model, with a 400 naming each bad parameter.

import { type Cursor, decodeCursor } from "./cursor.ts";
import { DomainError, type FieldIssue } from "./errors.ts";
import { type Level, LEVELS, parseLevel } from "./level.ts";
import type { LogFilter, LogQuery, SearchQuery } from "./query.ts";
import { parseSearch } from "./search-syntax.ts";
import { unstorableReason } from "./text.ts";
import { parseTime } from "./time.ts";

export type Params = Record<string, string | undefined>;

const HOUR = 3_600_000;
export const DEFAULT_WINDOW_MS = 24 * HOUR;
export const MAX_QUERY_LENGTH = 1000;

class Issues {
  readonly list: FieldIssue[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
  throwIfAny(): void {
    if (this.list.length)
      throw new DomainError("validation_failed", this.list.map((i) => `${i.field}: ${i.message}`).join("; "), {
        details: this.list,
      });
  }
}

const integer = (issues: Issues, params: Params, name: string, def: number, min: number, max: number): number => {
  const raw = params[name];
  if (raw === undefined || raw === "") return def;
  if (!/^\d{1,10}$/.test(raw.trim())) {
    issues.add(name, `must be a whole number from ${min} to ${max}`);
    return def;
  }
  const n = Number(raw.trim());
  if (n < min || n > max) issues.add(name, `must be from ${min} to ${max}`);
  return n;
};

const list = (raw: string | undefined): string[] =>
  raw === undefined ? [] : [...new Set(raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0))];

const parseFilter = (issues: Issues, params: Params, now: number): LogFilter & { relative: boolean } => {
  const start = params.startTime ? parseTime(params.startTime) : undefined;
  const end = params.endTime ? parseTime(params.endTime) : undefined;
  if (params.startTime && start === undefined) issues.add("startTime", "must be ISO-8601 (zone optional, UTC if absent) or epoch ms");
  if (params.endTime && end === undefined) issues.add("endTime", "must be ISO-8601 (zone optional, UTC if absent) or epoch ms");
  const e = end ?? now;
  const s = start ?? e - DEFAULT_WINDOW_MS;
  if (s > e) issues.add("startTime", "must not be after endTime");
  const levels: Level[] = [];
  for (const l of list(params.level)) {
    const level = parseLevel(l);
    if (level) levels.push(level);
    else issues.add("level", `"${l.slice(0, 40)}" is not one of ${LEVELS.join(", ")}`);
  }
  const sources = list(params.source);
  for (const s of sources) {
    if (s.length > 100) issues.add("source", "each source must be at most 100 characters");
    const bad = unstorableReason(s);
    if (bad) issues.add("source", bad);
  }
  if (sources.length > 100) issues.add("source", "at most 100 sources");
  return { start: s, end: e, levels, sources, relative: end === undefined };
};

const parseCursor = (issues: Issues, params: Params): Cursor | undefined => {
  const raw = params.cursor;
  if (raw === undefined || raw === "") return undefined;
  const cursor = decodeCursor(raw);
  if (!cursor) issues.add("cursor", "is not a cursor this service issued");
  return cursor;
};

export const parseLogQuery = (params: Params, now = Date.now()): LogQuery & { relative: boolean } => {
  const issues = new Issues();
  const filter = parseFilter(issues, params, now);
  const page = integer(issues, params, "page", 0, 0, 1_000_000);
  const size = integer(issues, params, "size", 50, 1, 1000);
  const cursor = parseCursor(issues, params);
  issues.throwIfAny();
  return { ...filter, page, size, ...(cursor ? { cursor } : {}) };
};

export const parseSearchQuery = (params: Params, now = Date.now()): SearchQuery & { relative: boolean } => {
  const issues = new Issues();
  const text = params.query ?? params.q;
  if (text === undefined || text.trim() === "") issues.add("query", "is required");
  else if (text.length > MAX_QUERY_LENGTH) issues.add("query", `must be at most ${MAX_QUERY_LENGTH} characters`);
  const terms = parseSearch(text ?? "");
  if (text?.trim() && terms.words.length + terms.phrases.length + terms.excluded.length === 0)
    issues.add("query", "has no word to search for (words are letters and digits)");
  let base: LogQuery & { relative: boolean } = { start: 0, end: 0, levels: [], sources: [], page: 0, size: 50, relative: true };
  try {
    base = parseLogQuery(params, now);
  } catch (error) {
    if (error instanceof DomainError && error.details) issues.list.push(...error.details);
    else throw error;
  }
  issues.throwIfAny();
  return { ...base, terms };
};

export const parseStatsParams = (params: Params, now = Date.now()): { start: number; end: number; hoursBack: number } => {
  const issues = new Issues();
  const hoursBack = integer(issues, params, "hoursBack", 24, 1, 8760);
  issues.throwIfAny();
  return { start: now - hoursBack * HOUR, end: now, hoursBack };
};
