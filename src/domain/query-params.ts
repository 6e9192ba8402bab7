// HTTP query parameters → the query model, with a 400 naming each bad parameter.
//
// Each parameter is a zod schema (the library events and configuration are validated with); the issues of
// every parameter are collected under its name and thrown together as one validation error.

import { z } from "zod";
import { type Cursor, decodeCursor } from "./cursor.ts";
import { DomainError, type FieldIssue } from "./errors.ts";
import { LEVELS, type Level, parseLevel } from "./level.ts";
import type { LogFilter, LogQuery, SearchQuery } from "./query.ts";
import { parseSearch, type SearchTerms } from "./search-syntax.ts";
import { codePointLength, unstorableReason } from "./text.ts";
import { MAX_TIME_MS, MIN_TIME_MS, parseTime } from "./time.ts";

export type Params = Record<string, string | undefined>;

const HOUR = 3_600_000;
export const DEFAULT_WINDOW_MS = 24 * HOUR;
export const MAX_QUERY_LENGTH = 1000;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
/** Offset paging reads every skipped row, so it stops here; past it a client continues with cursor=. */
export const MAX_OFFSET_RESULTS = 10_000;
const MAX_LIST = 100;
const MAX_SOURCE_LENGTH = 100;
const TIME_FORMS = "must be ISO-8601 (zone optional, UTC if absent) or epoch milliseconds";

/**
 * What identifies a time window in a cache key. A window whose end is "now" is keyed by what the client
 * sent (its width, or its fixed start), never by the clock, so repeated live queries share one entry.
 */
export type WindowKey = readonly ["last", number] | readonly ["from", number] | readonly [number, number];

export interface WindowInfo {
  /** True when the window ends at "now" (endTime absent): its answer moves with the clock. */
  relative: boolean;
  window: WindowKey;
}

class Issues {
  readonly list: FieldIssue[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
  /** The parameter's value through its schema; on failure its issues under its name, and the fallback. */
  parse<T>(field: string, schema: z.ZodType<T, string | undefined>, raw: string | undefined, fallback: T): T {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    for (const i of r.error.issues) this.add(field, i.message);
    return fallback;
  }
  throwIfAny(): void {
    if (this.list.length)
      throw new DomainError(
        "validation_failed",
        this.list.map((i) => `${i.field}: ${i.message}`).join("; "),
        {
          details: this.list,
        },
      );
  }
}

const blank = (raw: string | undefined): raw is undefined => raw === undefined || raw.trim() === "";
const fail = (ctx: z.RefinementCtx, message: string): typeof z.NEVER => {
  ctx.addIssue({ code: "custom", message });
  return z.NEVER;
};

/** A whole number in [min, max]; absent or blank is the default. */
const wholeNumber = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (blank(raw)) return def;
      if (!/^\d{1,10}$/.test(raw.trim())) return fail(ctx, `must be a whole number from ${min} to ${max}`);
      const n = Number(raw.trim());
      return n < min || n > max ? fail(ctx, `must be from ${min} to ${max}`) : n;
    });

const integer = (
  issues: Issues,
  params: Params,
  name: string,
  def: number,
  min: number,
  max: number,
): number => issues.parse(name, wholeNumber(def, min, max), params[name], def);

const list = (raw: string | undefined): string[] =>
  raw === undefined
    ? []
    : [
        ...new Set(
          raw
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
        ),
      ];

/** A time (ISO-8601 or epoch ms); absent or blank is undefined. */
const timeParam = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (blank(raw)) return undefined;
    return parseTime(raw) ?? fail(ctx, TIME_FORMS);
  });

const time = (issues: Issues, params: Params, name: "startTime" | "endTime"): number | undefined =>
  issues.parse(name, timeParam, params[name], undefined);

/** Comma-separated levels, any case, each named when it is not one: distinct and sorted. */
const levelsParam = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const levels: Level[] = [];
    for (const l of list(raw)) {
      const level = parseLevel(l);
      if (level) levels.push(level);
      else
        ctx.addIssue({ code: "custom", message: `"${l.slice(0, 40)}" is not one of ${LEVELS.join(", ")}` });
    }
    return [...new Set(levels)].sort();
  });

/** Comma-separated sources: at most MAX_LIST, each storable and at most MAX_SOURCE_LENGTH characters. */
const sourcesParam = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const sources = list(raw);
    if (sources.length > MAX_LIST) ctx.addIssue({ code: "custom", message: `at most ${MAX_LIST} sources` });
    for (const s of sources) {
      if (codePointLength(s) > MAX_SOURCE_LENGTH) {
        ctx.addIssue({
          code: "custom",
          message: `each source must be at most ${MAX_SOURCE_LENGTH} characters`,
        });
        break;
      }
      const bad = unstorableReason(s);
      if (bad) {
        ctx.addIssue({ code: "custom", message: bad });
        break;
      }
    }
    return sources.sort();
  });

const parseLevels = (issues: Issues, raw: string | undefined): Level[] =>
  issues.parse("level", levelsParam, raw, []);

const parseSources = (issues: Issues, raw: string | undefined): string[] =>
  issues.parse("source", sourcesParam, raw, list(raw).sort());

const parseFilter = (issues: Issues, params: Params, now: number): LogFilter & WindowInfo => {
  const start = time(issues, params, "startTime");
  const end = time(issues, params, "endTime");
  const e = end ?? now;
  const s = start ?? e - DEFAULT_WINDOW_MS;
  if (start !== undefined && end !== undefined && start > end)
    issues.add("startTime", "must not be after endTime");
  else if (start !== undefined && end === undefined && start > now)
    issues.add("startTime", "must not be in the future");
  const window: WindowKey =
    end !== undefined ? [s, e] : start !== undefined ? ["from", start] : ["last", DEFAULT_WINDOW_MS];
  return {
    start: s,
    end: e,
    levels: parseLevels(issues, params.level),
    sources: parseSources(issues, params.source),
    relative: end === undefined,
    window,
  };
};

/**
 * A listing's position must be one a store can hold: a time in the supported range (or the start cursor
 * just past it) and an id that could have been stored. Anything else would reach the store as a time or
 * text it cannot even represent (PostgreSQL has no year 10000 and no NUL in text).
 */
const positionable = (c: Cursor): boolean =>
  c.ts >= MIN_TIME_MS && c.ts <= MAX_TIME_MS + 1 && unstorableReason(c.id) === undefined;

const cursorParam = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined || raw === "") return undefined;
    const cursor = decodeCursor(raw);
    return cursor && positionable(cursor) ? cursor : fail(ctx, "is not a cursor this service issued");
  });

const parseCursor = (issues: Issues, params: Params): Cursor | undefined =>
  issues.parse("cursor", cursorParam, params.cursor, undefined);

export type ParsedLogQuery = LogQuery & WindowInfo;
export type ParsedSearchQuery = SearchQuery & WindowInfo;

const parseListing = (issues: Issues, params: Params, now: number): ParsedLogQuery => {
  const filter = parseFilter(issues, params, now);
  const page = integer(issues, params, "page", 0, 0, MAX_OFFSET_RESULTS);
  const size = integer(issues, params, "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
  const cursor = parseCursor(issues, params);
  if (!cursor && (page + 1) * size > MAX_OFFSET_RESULTS)
    issues.add(
      "page",
      `(page + 1) × size must be at most ${MAX_OFFSET_RESULTS}; continue further with cursor=nextCursor`,
    );
  return { ...filter, page, size, ...(cursor ? { cursor } : {}) };
};

export const parseLogQuery = (params: Params, now = Date.now()): ParsedLogQuery => {
  const issues = new Issues();
  const q = parseListing(issues, params, now);
  issues.throwIfAny();
  return q;
};

/** Search text: required for search, optional for the tail; undefined when absent. */
const textParam = (required: boolean) =>
  z
    .string()
    .optional()
    .transform((text, ctx): SearchTerms | undefined => {
      if (text === undefined || text.trim() === "") return required ? fail(ctx, "is required") : undefined;
      if (text.length > MAX_QUERY_LENGTH) return fail(ctx, `must be at most ${MAX_QUERY_LENGTH} characters`);
      const terms = parseSearch(text);
      const count =
        terms.words.length +
        terms.phrases.length +
        terms.excluded.length +
        (terms.excludedPhrases?.length ?? 0);
      return count === 0 ? fail(ctx, "has no word to search for (words are letters and digits)") : terms;
    });
const searchText = textParam(true);
const tailText = textParam(false);

const parseText = (issues: Issues, text: string | undefined, required: boolean): SearchTerms | undefined =>
  issues.parse("query", required ? searchText : tailText, text, undefined);

export const parseSearchQuery = (params: Params, now = Date.now()): ParsedSearchQuery => {
  const issues = new Issues();
  const terms = parseText(issues, params.query ?? params.q, true);
  const q = parseListing(issues, params, now);
  issues.throwIfAny();
  return { ...q, terms: terms ?? { words: [], phrases: [], excluded: [] } };
};

export interface StatsParams {
  start: number;
  end: number;
  hoursBack: number;
}

export const parseStatsParams = (params: Params, now = Date.now()): StatsParams => {
  const issues = new Issues();
  const hoursBack = integer(issues, params, "hoursBack", 24, 1, 8760);
  issues.throwIfAny();
  return { start: now - hoursBack * HOUR, end: now, hoursBack };
};

export interface TailParams {
  levels: Level[];
  sources: string[];
  terms?: SearchTerms;
  /** Where to resume (Last-Event-ID or cursor=); undefined = from now. */
  after?: Cursor;
}

/** Where a tail resumes: any cursor this service issued (its position may be past what is retained). */
const resumeParam = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (!raw) return undefined;
    return decodeCursor(raw) ?? fail(ctx, "is not a cursor this service issued");
  });

/** The live tail takes the same level/source lists and search text; a time window does not apply. */
export const parseTailParams = (params: Params, lastEventId: string | undefined): TailParams => {
  const issues = new Issues();
  const levels = parseLevels(issues, params.level);
  const sources = parseSources(issues, params.source);
  const terms = parseText(issues, params.query ?? params.q, false);
  const resume = lastEventId?.trim() || params.cursor;
  const after = issues.parse(
    lastEventId?.trim() ? "Last-Event-ID" : "cursor",
    resumeParam,
    resume,
    undefined,
  );
  issues.throwIfAny();
  return { levels, sources, ...(terms ? { terms } : {}), ...(after ? { after } : {}) };
};
