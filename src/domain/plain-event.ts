// The ingest schema's common case checked by hand: a plainly valid event skips zod, which still judges (and
// words the errors for) every other one. Must never accept what makeLogEventInput refuses (a unit test checks it).

import { newEventId } from "./event-id.ts";
import { isLevel, type Level, parseLevel } from "./level.ts";
import type { EventLimits, LogEvent, Metadata } from "./log-event.ts";
import { storableText } from "./text.ts";
import { parseTime } from "./time.ts";

/** A string stays within its UTF-8 byte limit: three bytes per UTF-16 unit at most, counted only when it matters. */
const withinBytes = (text: string, max: number): boolean =>
  text.length * 3 <= max || Buffer.byteLength(text, "utf8") <= max;

const NOT_PLAIN = -1;
/** The longest text JSON.stringify gives a finite number: 25 characters ("-0.0000012345678901234567"). */
const NUMBER_BOUND = 25;

/**
 * At least the UTF-8 size of JSON.stringify(value), or NOT_PLAIN for anything the schema might refuse or that
 * JSON.parse does not make: a non-finite number, an unstorable string or key, nesting deeper than maxDepth
 * (counted as jsonDepth counts), undefined, functions, objects of other classes. A string takes at most six
 * bytes per UTF-16 unit ("\u001f"), plus its quotes. Recursion is bounded by maxDepth.
 */
const jsonBound = (value: unknown, depth: number, maxDepth: number): number => {
  switch (typeof value) {
    case "string":
      return storableText(value) ? 2 + 6 * value.length : NOT_PLAIN;
    case "number":
      return Number.isFinite(value) ? NUMBER_BOUND : NOT_PLAIN;
    case "boolean":
      return 5;
    case "object": {
      if (value === null) return 4;
      if (depth >= maxDepth) return NOT_PLAIN;
      const proto: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (proto !== Array.prototype) return NOT_PLAIN;
        let size = 2;
        for (let i = 0; i < value.length; i++) {
          const inner = jsonBound(value[i], depth + 1, maxDepth);
          if (inner === NOT_PLAIN) return NOT_PLAIN;
          size += inner + 1;
        }
        return size;
      }
      if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      const record = value as Record<string, unknown>;
      let size = 2;
      for (const key of Object.keys(record)) {
        if (!storableText(key)) return NOT_PLAIN;
        const inner = jsonBound(record[key], depth + 1, maxDepth);
        if (inner === NOT_PLAIN) return NOT_PLAIN;
        // Quotes, colon and comma around the key, escaped at six bytes per unit like any string.
        size += 6 * key.length + 4 + inner;
      }
      return size;
    }
    default:
      return NOT_PLAIN;
  }
};

/** Metadata the schema keeps as given; the exact serialized size is computed only when the bound is over. */
const plainMetadata = (value: object, limits: EventLimits): boolean => {
  if (Array.isArray(value)) return false;
  const bound = jsonBound(value, 0, limits.maxMetadataDepth);
  if (bound === NOT_PLAIN) return false;
  return bound <= limits.maxMetadataBytes || withinBytes(JSON.stringify(value), limits.maxMetadataBytes);
};

// URLs resolve "." and ".." as path segments: the schema refuses them as ids.
const plainId = (id: unknown, maxLength: number): id is string =>
  typeof id === "string" &&
  id.length > 0 &&
  id.length <= maxLength &&
  id !== "." &&
  id !== ".." &&
  storableText(id);

/**
 * The event makeEventParser would return for `raw`, when raw is plainly valid; undefined when it is not, or
 * is too unusual to tell here, and the schema must judge it. Defaults are those of makeEventParser: a UUIDv7
 * id, the receive time, null metadata.
 */
export const plainEvent = (
  raw: Record<string, unknown>,
  limits: EventLimits,
  receivedAt: number,
): LogEvent | undefined => {
  const { level, message, source, timestamp, id, metadata } = raw;
  if (typeof level !== "string") return undefined;
  const parsedLevel: Level | undefined = isLevel(level) ? level : parseLevel(level);
  if (parsedLevel === undefined) return undefined;
  if (
    typeof message !== "string" ||
    message.length === 0 ||
    !withinBytes(message, limits.maxMessageBytes) ||
    !storableText(message)
  )
    return undefined;
  // Lengths in UTF-16 units: never fewer than the code points zod counts, so "at most" holds for both.
  if (
    typeof source !== "string" ||
    source.length === 0 ||
    source.length > limits.maxSourceLength ||
    !storableText(source)
  )
    return undefined;
  let time = receivedAt;
  if (timestamp !== undefined && timestamp !== null) {
    if (typeof timestamp !== "number" && typeof timestamp !== "string") return undefined;
    const ms = parseTime(timestamp);
    if (ms === undefined) return undefined;
    time = ms;
  }
  if (id !== undefined && id !== null && !plainId(id, limits.maxIdLength)) return undefined;
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== "object" || !plainMetadata(metadata, limits)) return undefined;
  }
  return {
    id: typeof id === "string" ? id : newEventId(),
    level: parsedLevel,
    message,
    source,
    timestamp: time,
    // The input object itself, as the schema path keeps it.
    metadata: typeof metadata === "object" && metadata !== null ? (metadata as Metadata) : null,
  };
};
