// The bus message format: one JSON object per event with a schema version, validated again on the way out.

import { z } from "zod";
import { LEVELS } from "./level.ts";
import type { LogEvent, Metadata } from "./log-event.ts";
import { findUnstorable } from "./text.ts";

export const WIRE_VERSION = 1;

export const WireEvent = z.object({
  v: z.literal(WIRE_VERSION),
  id: z.string().min(1).max(64),
  level: z.enum(LEVELS),
  message: z.string().min(1),
  source: z.string().min(1).max(100),
  ts: z.number().int().nonnegative(),
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

/** Never throws: a bad message is reported so the consumer can dead-letter it and move on. */
export const decodeEvent = (value: Uint8Array | string | null): DecodeResult => {
  if (value === null) return { ok: false, reason: "unparseable", error: "empty message" };
  let raw: unknown;
  try {
    raw = JSON.parse(
      typeof value === "string" ? value : new TextDecoder("utf-8", { fatal: true }).decode(value),
    );
  } catch (err) {
    return { ok: false, reason: "unparseable", error: err instanceof Error ? err.message : String(err) };
  }
  const parsed = WireEvent.safeParse(raw);
  if (!parsed.success)
    return { ok: false, reason: "invalid", error: parsed.error.issues[0]?.message ?? "invalid" };
  // Checked on the parsed message itself: zod's copy of metadata has lost any "__proto__" key and its value.
  const bad = findUnstorable(raw);
  if (bad) return { ok: false, reason: "invalid", error: `${bad.path}: ${bad.reason}` };
  const w = parsed.data;
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
