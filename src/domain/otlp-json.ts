// Reads OTLP logs in the OTLP/JSON encoding (lowerCamelCase keys, hex ids, int64 as strings, enums as ints).

import { DomainError } from "./errors.ts";
import type { AttrEntries, AttrValue } from "./metadata-fit.ts";
import { emptyObject } from "./metadata-fit.ts";
import type { OtlpLogRecord, OtlpLogsRequest, OtlpResourceLogs, OtlpScopeLogs } from "./otlp-logs.ts";

type Json = Record<string, unknown>;

/**
 * Paths name the field an error is about. Building them for every field of every record cost as much as the
 * rest of the reading, so a request is read without them first (at() and atIndex() hand the path back
 * unchanged); only a request that fails is read again with them, to name the field. Reading is synchronous
 * and deterministic: the second reading fails at the same field.
 */
let naming = false;
const at = (path: string, step: string): string => (naming ? path + step : path);
const atIndex = (path: string, index: number): string => (naming ? `${path}[${index}]` : path);

const refuse = (path: string, problem: string): never => {
  throw new DomainError("validation_failed", `${path} ${problem}`, {
    details: [{ field: path, message: problem }],
  });
};

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const objectAt = (v: unknown, path: string): Json => (isObject(v) ? v : refuse(path, "must be an object"));

const listAt = (v: unknown, path: string): unknown[] => {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : refuse(path, "must be an array");
};

const text = (v: unknown, path: string): string => {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : refuse(path, "must be a string");
};

/** Nanoseconds (a decimal string, or a number) → whole epoch milliseconds; 0 when absent. */
const nanosToMs = (v: unknown, path: string): number => {
  if (v === undefined || v === null || v === "" || v === 0) return 0;
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return Number(BigInt(v) / 1_000_000n);
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return Math.floor(v / 1e6);
  return refuse(path, "must be unsigned nanoseconds since the epoch (a decimal string)");
};

const SEVERITY_NAME = /^SEVERITY_NUMBER_/;
const SEVERITY_NAMES = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

const severityNumber = (v: unknown, path: string): number => {
  if (v === undefined || v === null) return 0;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  // The spec writes enums as integers; some encoders write the enum's name, e.g. SEVERITY_NUMBER_WARN2.
  if (typeof v === "string" && SEVERITY_NAME.test(v)) {
    const m = /^SEVERITY_NUMBER_([A-Z]+)(\d?)$/.exec(v);
    const base = m ? SEVERITY_NAMES.indexOf(m[1] ?? "") : -1;
    return base < 0 ? 0 : base * 4 + Math.max(1, Number(m?.[2] || 1));
  }
  return refuse(path, "must be an integer");
};

const int64 = (v: unknown, path: string): number | string => {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^-?\d{1,20}$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  }
  return refuse(path, "must be an integer (a decimal string)");
};

const MAX_NESTING = 64;

const anyValue = (v: unknown, path: string, depth: number): AttrValue => {
  if (depth > MAX_NESTING) refuse(path, `is nested more than ${MAX_NESTING} deep`);
  if (v === undefined || v === null) return null;
  const o = objectAt(v, path);
  if ("stringValue" in o) return text(o.stringValue, at(path, ".stringValue"));
  if ("boolValue" in o) return o.boolValue === true;
  if ("intValue" in o) return int64(o.intValue, at(path, ".intValue"));
  if ("doubleValue" in o) {
    const d = o.doubleValue;
    if (typeof d === "number") return d;
    // Infinity and NaN travel as strings; kept as text, as the protobuf path keeps them.
    return typeof d === "string" ? d : refuse(at(path, ".doubleValue"), "must be a number");
  }
  if ("bytesValue" in o) return text(o.bytesValue, at(path, ".bytesValue"));
  if ("arrayValue" in o) {
    const valuesPath = at(path, ".arrayValue.values");
    const values = listAt(objectAt(o.arrayValue, at(path, ".arrayValue")).values, valuesPath);
    return values.map((item, i) => anyValue(item, atIndex(valuesPath, i), depth + 1));
  }
  if ("kvlistValue" in o) {
    const out = emptyObject();
    const kvlist = objectAt(o.kvlistValue, at(path, ".kvlistValue"));
    for (const [key, value] of attributesAt(kvlist.values, at(path, ".kvlistValue.values"), depth + 1))
      out[key] = value;
    return out;
  }
  return null;
};

/** A list of key/value attributes (absent: none). */
const attributesAt = (v: unknown, path: string, depth: number): AttrEntries =>
  listAt(v, path).map((item, i) => {
    const here = atIndex(path, i);
    const kv = objectAt(item, here);
    return [text(kv.key, at(here, ".key")), anyValue(kv.value, at(here, ".value"), depth + 1)];
  });

const hexId = (v: unknown, path: string): string => {
  const id = text(v, path);
  return /^[0-9a-fA-F]*$/.test(id) ? id.toLowerCase() : refuse(path, "must be hex");
};

const logRecord = (v: unknown, path: string): OtlpLogRecord => {
  const o = objectAt(v, path);
  return {
    timeMs: nanosToMs(o.timeUnixNano, at(path, ".timeUnixNano")),
    observedMs: nanosToMs(o.observedTimeUnixNano, at(path, ".observedTimeUnixNano")),
    severityNumber: severityNumber(o.severityNumber, at(path, ".severityNumber")),
    severityText: text(o.severityText, at(path, ".severityText")),
    body: o.body === undefined ? undefined : anyValue(o.body, at(path, ".body"), 1),
    attributes: attributesAt(o.attributes, at(path, ".attributes"), 1),
    traceId: hexId(o.traceId, at(path, ".traceId")),
    spanId: hexId(o.spanId, at(path, ".spanId")),
    eventName: text(o.eventName, at(path, ".eventName")),
  };
};

const scopeLogs = (v: unknown, path: string, count: { records: number; max: number }): OtlpScopeLogs => {
  const o = objectAt(v, path);
  const scope = o.scope === undefined || o.scope === null ? {} : objectAt(o.scope, at(path, ".scope"));
  const recordsPath = at(path, ".logRecords");
  const records = listAt(o.logRecords, recordsPath);
  count.records += records.length;
  if (count.records > count.max)
    throw new DomainError("payload_too_large", `a request holds at most ${count.max} log records`);
  return {
    name: text(scope.name, at(path, ".scope.name")),
    version: text(scope.version, at(path, ".scope.version")),
    attributes: attributesAt(scope.attributes, at(path, ".scope.attributes"), 1),
    records: records.map((r, i) => logRecord(r, atIndex(recordsPath, i))),
  };
};

const resourceLogs = (
  v: unknown,
  path: string,
  count: { records: number; max: number },
): OtlpResourceLogs => {
  const o = objectAt(v, path);
  const resource =
    o.resource === undefined || o.resource === null ? {} : objectAt(o.resource, at(path, ".resource"));
  const scopesPath = at(path, ".scopeLogs");
  return {
    attributes: attributesAt(resource.attributes, at(path, ".resource.attributes"), 1),
    scopes: listAt(o.scopeLogs, scopesPath).map((s, i) => scopeLogs(s, atIndex(scopesPath, i), count)),
  };
};

/** An ExportLogsServiceRequest parsed from JSON; a 400 naming the first field that is not what OTLP says. */
export const readOtlpJson = (body: unknown, maxRecords: number): OtlpLogsRequest => {
  try {
    return read(body, maxRecords);
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== "validation_failed") throw error;
    naming = true;
    try {
      read(body, maxRecords);
    } finally {
      naming = false;
    }
    throw error;
  }
};

const read = (body: unknown, maxRecords: number): OtlpLogsRequest => {
  const root = objectAt(body, "body");
  const count = { records: 0, max: maxRecords };
  return listAt(root.resourceLogs, "resourceLogs").map((r, i) =>
    resourceLogs(r, atIndex("resourceLogs", i), count),
  );
};
