// Splunk HEC: concatenated JSON events split without a newline contract, and one HEC event mapped to an event.

import { parseTime } from "../time.ts";
import { type Doc, isObject, levelFromWord, peek, sourceName, take, takeText } from "./fields.ts";

/** The HEC answer codes clients read (the status code alone does not tell them apart). */
export const HEC = {
  success: { code: 0, text: "Success", status: 200 },
  tokenRequired: { code: 2, text: "Token is required", status: 401 },
  invalidAuthorization: { code: 3, text: "Invalid authorization", status: 401 },
  invalidToken: { code: 4, text: "Invalid token", status: 403 },
  noData: { code: 5, text: "No data", status: 400 },
  invalidFormat: { code: 6, text: "Invalid data format", status: 400 },
  serverBusy: { code: 9, text: "Server is busy", status: 503 },
  eventRequired: { code: 12, text: "Event field is required", status: 400 },
  eventBlank: { code: 13, text: "Event field cannot be blank", status: 400 },
  healthy: { code: 17, text: "HEC is healthy", status: 200 },
  unhealthy: { code: 18, text: "HEC is unhealthy, queues are full", status: 503 },
} as const;

export type HecAnswer = (typeof HEC)[keyof typeof HEC];

const WS = new Set([" ", "\t", "\n", "\r"]);

/**
 * Splits `{…}{…} {…}\n{…}` into the text of each object: strings (and the braces in them) are skipped by their
 * quotes and escapes. Text that is not an object at the top level ends the split; its offset is reported.
 */
export const splitConcatenated = (text: string): { parts: string[]; badAt: number | undefined } => {
  const parts: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && WS.has(text[i] ?? "")) i++;
    if (i >= n) break;
    if (text[i] !== "{") return { parts, badAt: i };
    const start = i;
    let depth = 0;
    for (; i < n; i++) {
      const ch = text.charCodeAt(i);
      if (ch === 0x22) {
        // A string: jump to its closing quote, stepping over escapes.
        for (i++; i < n; i++) {
          const c = text.charCodeAt(i);
          if (c === 0x5c) i++;
          else if (c === 0x22) break;
        }
      } else if (ch === 0x7b || ch === 0x5b) depth++;
      else if (ch === 0x7d || ch === 0x5d) {
        depth--;
        if (depth === 0) break;
      }
    }
    if (depth !== 0 || i >= n) return { parts, badAt: start };
    i++;
    parts.push(text.slice(start, i));
  }
  return { parts, badAt: undefined };
};

export type HecParse = { ok: true; event: Doc } | { ok: false; answer: HecAnswer };

const MESSAGE_PATHS = ["message", "msg", "log", "text"] as const;
const LEVEL_PATHS = ["level", "severity", "log.level"] as const;

/** HEC time: epoch seconds with an optional fraction, as a number or a string. */
const hecTime = (v: unknown): number | undefined => {
  const seconds = typeof v === "string" && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof seconds === "number" && Number.isFinite(seconds)) return parseTime(Math.round(seconds * 1000));
  return undefined;
};

/**
 * One HEC event as a native event: `event` (text, or an object whose message/msg/log/text is the message),
 * a level from the event or its indexed `fields`, the source from `source`, `host` or `sourcetype`; the other
 * envelope keys, the indexed fields and the event object's other keys are metadata.
 */
export const hecToEvent = (raw: unknown, maxSourceLength: number): HecParse => {
  if (!isObject(raw)) return { ok: false, answer: HEC.invalidFormat };
  if (!Object.hasOwn(raw, "event") || raw.event === null) return { ok: false, answer: HEC.eventRequired };
  const body = raw.event;
  if (body === "" || (isObject(body) && Object.keys(body).length === 0))
    return { ok: false, answer: HEC.eventBlank };
  const metadata: Doc = {};
  let message: string;
  let level: ReturnType<typeof levelFromWord>;
  if (isObject(body)) {
    const rest: Doc = { ...body };
    message = takeText(rest, MESSAGE_PATHS) ?? JSON.stringify(body);
    for (const path of LEVEL_PATHS) {
      level = levelFromWord(peek(rest, path));
      if (level) {
        take(rest, path);
        break;
      }
    }
    Object.assign(metadata, rest);
  } else message = typeof body === "string" ? body : JSON.stringify(body);
  const fields = isObject(raw.fields) ? { ...raw.fields } : undefined;
  if (fields) {
    level ??= levelFromWord(fields.level) ?? levelFromWord(fields.severity);
    Object.assign(metadata, fields);
  }
  const text = (k: string): string | undefined =>
    typeof raw[k] === "string" && raw[k] !== "" ? (raw[k] as string) : undefined;
  for (const key of ["host", "source", "sourcetype", "index"]) {
    const v = text(key);
    if (v !== undefined) metadata[key] = v;
  }
  const timestamp = hecTime(raw.time);
  return {
    ok: true,
    event: {
      level: level ?? "INFO",
      message,
      source: sourceName(text("source") ?? text("host") ?? text("sourcetype"), "splunk-hec", maxSourceLength),
      ...(timestamp === undefined ? {} : { timestamp }),
      ...(Object.keys(metadata).length ? { metadata } : {}),
    },
  };
};
