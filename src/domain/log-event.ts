// The log event: its input schema (zod), its normalized form, and the limits that bound it.

import { z } from "zod";
import { type FieldIssue, validationError } from "./errors.ts";
import { newEventId } from "./event-id.ts";
import { LEVELS, type Level, parseLevel } from "./level.ts";
import { plainEvent } from "./plain-event.ts";
import { findUnstorable, jsonDepth, unstorableReason } from "./text.ts";
import { parseTime } from "./time.ts";

export type Metadata = Record<string, unknown>;

/** A validated, normalized event: what travels on the bus and lands in the store. */
export interface LogEvent {
  id: string;
  level: Level;
  message: string;
  source: string;
  /** Event time, epoch milliseconds UTC. */
  timestamp: number;
  metadata: Metadata | null;
}

/** An event as the store returns it. */
export interface StoredLogEvent extends LogEvent {
  /** When it was stored, epoch milliseconds. */
  createdAt: number;
  /** Store-assigned arrival sequence, increasing in commit order. */
  seq: number;
}

export interface EventLimits {
  maxMessageBytes: number;
  maxMetadataBytes: number;
  maxMetadataDepth: number;
  maxSourceLength: number;
  maxIdLength: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxMessageBytes: 32 * 1024,
  maxMetadataBytes: 16 * 1024,
  maxMetadataDepth: 8,
  maxSourceLength: 100,
  maxIdLength: 64,
};

const utf8Length = (text: string): number => Buffer.byteLength(text, "utf8");

const storable = (value: string, ctx: z.RefinementCtx): void => {
  const reason = unstorableReason(value);
  if (reason) ctx.addIssue({ code: "custom", message: reason });
};

/** The schema of one incoming event. Unknown fields are ignored. */
export const makeLogEventInput = (limits: EventLimits = DEFAULT_EVENT_LIMITS) =>
  z.object({
    level: z.string({ error: "must be a string" }).transform((v, ctx) => {
      const level = parseLevel(v);
      if (!level) {
        ctx.addIssue({ code: "custom", message: `must be one of ${LEVELS.join(", ")}` });
        return z.NEVER;
      }
      return level;
    }),
    message: z
      .string({ error: "must be a string" })
      .min(1, "must not be empty")
      .superRefine((v, ctx) => {
        if (utf8Length(v) > limits.maxMessageBytes)
          ctx.addIssue({ code: "custom", message: `must be at most ${limits.maxMessageBytes} bytes` });
        storable(v, ctx);
      }),
    source: z
      .string({ error: "must be a string" })
      .min(1, "must not be empty")
      .max(limits.maxSourceLength, `must be at most ${limits.maxSourceLength} characters`)
      .superRefine(storable),
    timestamp: z
      .union([z.string(), z.number()], { error: "must be an ISO-8601 string or epoch milliseconds" })
      .nullish()
      .transform((v, ctx) => {
        if (v === undefined || v === null) return undefined;
        const ms = parseTime(v);
        if (ms === undefined) {
          ctx.addIssue({
            code: "custom",
            message: "must be ISO-8601 (zone optional, UTC if absent) or epoch ms",
          });
          return z.NEVER;
        }
        return ms;
      }),
    id: z
      .string({ error: "must be a string" })
      .min(1, "must not be empty")
      .max(limits.maxIdLength, `must be at most ${limits.maxIdLength} characters`)
      .superRefine(storable)
      // URLs resolve "." and ".." as path segments (even percent-encoded): GET /logs/{id} could never reach them.
      .refine((v) => v !== "." && v !== "..", 'must not be "." or ".."')
      .nullish(),
    // Checked on the object as parsed, not on a copy: a copy made by assignment (z.record's) drops a
    // "__proto__" key, and every check below would then miss what that key holds (NUL, depth, size).
    metadata: z
      .unknown()
      .optional()
      .superRefine((v, ctx) => {
        if (v === undefined || v === null) return;
        if (typeof v !== "object" || Array.isArray(v)) {
          ctx.addIssue({ code: "custom", message: "must be a JSON object" });
          return;
        }
        if (jsonDepth(v) > limits.maxMetadataDepth) {
          // Nothing else is checked on a value this deep: it is refused already, and walking it costs.
          ctx.addIssue({ code: "custom", message: `must be nested at most ${limits.maxMetadataDepth} deep` });
          return;
        }
        if (utf8Length(JSON.stringify(v)) > limits.maxMetadataBytes)
          ctx.addIssue({
            code: "custom",
            message: `must be at most ${limits.maxMetadataBytes} bytes serialized`,
          });
        const bad = findUnstorable(v);
        if (bad)
          ctx.addIssue({ code: "custom", path: bad.path.split(".").filter(Boolean), message: bad.reason });
      }),
  });

export type LogEventInput = z.output<ReturnType<typeof makeLogEventInput>>;

/** zod issues → our field list ("metadata.user.name"); `raw` tells a missing field from a wrong type. */
export const toFieldIssues = (error: z.ZodError, prefix = "", raw?: unknown): FieldIssue[] =>
  error.issues.map((issue) => {
    const top = issue.path[0];
    const missing =
      issue.code === "invalid_type" &&
      issue.path.length === 1 &&
      typeof top === "string" &&
      raw !== null &&
      typeof raw === "object" &&
      (raw as Record<string, unknown>)[top] === undefined;
    return {
      field: prefix + (issue.path.length ? issue.path.map(String).join(".") : "body"),
      message: missing ? "is required" : issue.message,
    };
  });

export type EventParseResult = { ok: true; event: LogEvent } | { ok: false; issues: FieldIssue[] };

type EventParser = (raw: unknown, receivedAt?: number, prefix?: string) => EventParseResult;

const notAnObject = (raw: unknown): boolean => raw === null || typeof raw !== "object" || Array.isArray(raw);

/** The schema's verdict alone, defaults filled: what makeEventParser answers for anything not plainly valid. */
export const makeSchemaEventParser = (limits: EventLimits = DEFAULT_EVENT_LIMITS): EventParser => {
  const schema = makeLogEventInput(limits);
  return (raw, receivedAt = Date.now(), prefix = "") => {
    if (notAnObject(raw))
      return { ok: false, issues: [{ field: prefix || "body", message: "must be a JSON object" }] };
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error, prefix, raw) };
    const v = parsed.data;
    return {
      ok: true,
      event: {
        id: v.id ?? newEventId(),
        level: v.level,
        message: v.message,
        source: v.source,
        timestamp: v.timestamp ?? receivedAt,
        // The input object itself (z.unknown keeps the reference): what was accepted reads back identical.
        metadata: v.metadata ? (v.metadata as Metadata) : null,
      },
    };
  };
};

/**
 * Validates one raw JSON value and fills the defaults (id: UUIDv7, timestamp: receive time). A plainly valid
 * event is accepted by a hand check (plainEvent); the schema judges every other one and words its errors.
 */
export const makeEventParser = (limits: EventLimits = DEFAULT_EVENT_LIMITS): EventParser => {
  const bySchema = makeSchemaEventParser(limits);
  return (raw, receivedAt = Date.now(), prefix = "") => {
    const plain = notAnObject(raw)
      ? undefined
      : plainEvent(raw as Record<string, unknown>, limits, receivedAt);
    return plain ? { ok: true, event: plain } : bySchema(raw, receivedAt, prefix);
  };
};

export const parseEventOrThrow = (parse: ReturnType<typeof makeEventParser>, raw: unknown): LogEvent => {
  const result = parse(raw);
  if (!result.ok) throw validationError(result.issues);
  return result.event;
};
