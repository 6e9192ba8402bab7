// The bus message format: one JSON object per event with a schema version, validated again on the way out.

import { z } from "zod";
import { LEVELS } from "./level.ts";
import type { LogEvent, Metadata } from "./log-event.ts";
import { findUnstorable } from "./text.ts";
import { MAX_TIME_MS, MIN_TIME_MS } from "./time.ts";

export const WIRE_VERSION = 1;

export const WireEvent = z.object({
  v: z.literal(WIRE_VERSION),
  id: z.string().min(1).max(64),
  level: z.enum(LEVELS),
  message: z.string().min(1),
  source: z.string().min(1).max(100),
  // The range the producer accepts (years 1970..9999): anything else would fail in every store.
  ts: z.number().int().min(MIN_TIME_MS).max(MAX_TIME_MS),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});
export type WireEvent = z.infer<typeof WireEvent>;

export const encodeEvent = (event: LogEvent): string =>
  JSON.stringify({
    v: WIRE_VERSION,
    id: event.id,
    level: event.level,
    message: event.message,
    source: event.source,
    ts: event.timestamp,
    metadata: event.metadata,
  } satisfies WireEvent);

export type DecodeResult =
  | { ok: true; event: LogEvent }
  | { ok: false; reason: "unparseable" | "invalid"; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const LEVEL_NAMES: ReadonlySet<unknown> = new Set(LEVELS);

/**
 * What WireEvent accepts, checked by hand: almost every message passes here, and zod then runs only to say
 * what is wrong with one that does not. Must never accept what WireEvent refuses (a unit test checks it).
 */
export const plainlyValid = (raw: unknown): raw is WireEvent => {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return false;
  const w = raw as Record<string, unknown>;
  const { id, message, source, ts, metadata } = w;
  return (
    w.v === WIRE_VERSION &&
    typeof id === "string" &&
    id.length >= 1 &&
    id.length <= 64 &&
    LEVEL_NAMES.has(w.level) &&
    typeof message === "string" &&
    message.length >= 1 &&
    typeof source === "string" &&
    source.length >= 1 &&
    source.length <= 100 &&
    typeof ts === "number" &&
    Number.isInteger(ts) &&
    ts >= MIN_TIME_MS &&
    ts <= MAX_TIME_MS &&
    (metadata === null || (typeof metadata === "object" && !Array.isArray(metadata)))
  );
};

/**
 * A number literal JSON.parse may turn into ±Infinity: an exponent of three digits or more, or 309+ integer
 * digits. A literal starts the text or follows ":", ",", "[" or whitespace; inside a string (an id such as
 * "0190e123-…") the same characters follow other ones, so they do not count, and a false match only costs
 * the full check.
 */
const HUGE_NUMBER = /(?:^|[:,[\s])-?(?:\d+(?:\.\d+)?[eE]\+?\d{3}|\d{309})/;

/**
 * Whether the JSON text can hold a value findUnstorable refuses: in text without a \u escape no string holds
 * NUL (a raw control character is a JSON syntax error) or a lone surrogate (strict UTF-8 decoding refuses
 * one, and a JS string is checked directly); and without a huge literal no number is infinite.
 */
const mayHoldUnstorable = (text: string): boolean =>
  text.includes("\\u") || HUGE_NUMBER.test(text) || !text.isWellFormed();

/** One event object checked against the wire format; `suspicious` when its text may hold an unstorable value. */
const checkEvent = (raw: unknown, suspicious: boolean): DecodeResult => {
  let w: WireEvent;
  if (plainlyValid(raw)) w = raw;
  else {
    const parsed = WireEvent.safeParse(raw);
    if (!parsed.success)
      return { ok: false, reason: "invalid", error: parsed.error.issues[0]?.message ?? "invalid" };
    w = parsed.data;
  }
  // Checked on the parsed message itself: zod's copy of metadata has lost any "__proto__" key and its value.
  const bad = suspicious ? findUnstorable(raw) : undefined;
  if (bad) return { ok: false, reason: "invalid", error: `${bad.path}: ${bad.reason}` };
  return {
    ok: true,
    event: {
      id: w.id,
      level: w.level,
      message: w.message,
      source: w.source,
      timestamp: w.ts,
      // The parsed object itself, not zod's copy: a copy made by assignment drops a "__proto__" key that
      // the producer accepted (see makeEventParser), and what was accepted must read back identical.
      metadata: w.metadata === null ? null : (raw as { metadata: Metadata }).metadata,
    },
  };
};

type Parsed = { ok: true; raw: unknown; text: string } | Extract<DecodeResult, { ok: false }>;

const parse = (value: Uint8Array | string | null): Parsed => {
  if (value === null) return { ok: false, reason: "unparseable", error: "empty message" };
  try {
    const text = typeof value === "string" ? value : utf8.decode(value);
    return { ok: true, raw: JSON.parse(text), text };
  } catch (err) {
    return { ok: false, reason: "unparseable", error: err instanceof Error ? err.message : String(err) };
  }
};

/** Never throws: a bad message is reported so the consumer can dead-letter it and move on. */
export const decodeEvent = (value: Uint8Array | string | null): DecodeResult => {
  const parsed = parse(value);
  if (!parsed.ok) return parsed;
  return checkEvent(parsed.raw, mayHoldUnstorable(parsed.text));
};

/** One event of a record, decoded, or why it was refused with the event's own JSON text to dead-letter. */
export type RecordEvent =
  | { ok: true; event: LogEvent }
  | { ok: false; reason: "invalid"; error: string; json: string };

export type RecordDecodeResult =
  | { ok: true; events: RecordEvent[] }
  | { ok: false; reason: "unparseable" | "invalid"; error: string };

/**
 * A record's events. A record holds one event object or, from a producer that packs them (see
 * encodeRecord), a JSON array of event objects of one source. Never throws: a record that is not JSON, or an
 * array that is empty, is refused whole; an event that does not pass is refused alone, with its own JSON.
 */
export const decodeRecord = (value: Uint8Array | string | null): RecordDecodeResult => {
  const parsed = parse(value);
  if (!parsed.ok) return parsed;
  const suspicious = mayHoldUnstorable(parsed.text);
  if (!Array.isArray(parsed.raw)) {
    const one = checkEvent(parsed.raw, suspicious);
    return one.ok ? { ok: true, events: [one] } : one;
  }
  if (parsed.raw.length === 0) return { ok: false, reason: "invalid", error: "an empty array of events" };
  const n = parsed.raw.length;
  return {
    ok: true,
    events: parsed.raw.map((raw: unknown, i): RecordEvent => {
      const one = checkEvent(raw, suspicious);
      if (one.ok) return one;
      return {
        ok: false,
        reason: "invalid",
        error: `event ${i + 1} of ${n}: ${one.error}`,
        json: JSON.stringify(raw) ?? "null",
      };
    }),
  };
};

/** How many events of one source a producer packs into one record unless configured (KAFKA_RECORD_MAX_EVENTS). */
export const DEFAULT_RECORD_EVENTS = 100;

/** A record holding `encoded` events (encodeEvent's texts) of one source: the object alone, or an array. */
export const encodeRecord = (encoded: readonly string[]): string =>
  encoded.length === 1 ? (encoded[0] as string) : `[${encoded.join(",")}]`;
