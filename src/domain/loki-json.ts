// Reads a Loki push request in its JSON form: {"streams":[{"stream":{labels},"values":[[ts_ns, line, meta?]]}]}.

import { DomainError } from "./errors.ts";
import type { LokiEntry, LokiStream } from "./loki-push.ts";

const refuse = (path: string, problem: string): never => {
  throw new DomainError("validation_failed", `${path} ${problem}`, {
    details: [{ field: path, message: problem }],
  });
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const stringPairs = (v: unknown, path: string): [string, string][] => {
  if (v === undefined || v === null) return [];
  if (!isObject(v)) return refuse(path, "must be an object of string values");
  const out: [string, string][] = [];
  for (const key of Object.keys(v)) {
    const value = v[key];
    if (typeof value !== "string") return refuse(`${path}.${key}`, "must be a string");
    out.push([key, value]);
  }
  return out;
};

/** Nanoseconds since the epoch, as Loki writes them (a decimal string; a number is taken too) → whole ms. */
const nanosToMs = (v: unknown, path: string): number => {
  if (typeof v === "string" && /^\d{1,20}$/.test(v)) return Number(BigInt(v) / 1_000_000n);
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return Math.floor(v / 1e6);
  return refuse(path, "must be nanoseconds since the epoch as a decimal string");
};

const entry = (v: unknown, path: string): LokiEntry => {
  if (!Array.isArray(v) || v.length < 2 || v.length > 3)
    return refuse(path, "must be [timestamp, line] or [timestamp, line, structured metadata]");
  const line = v[1];
  if (typeof line !== "string") return refuse(`${path}[1]`, "must be a string");
  return { timeMs: nanosToMs(v[0], `${path}[0]`), line, structuredMetadata: stringPairs(v[2], `${path}[2]`) };
};

/** The streams of a parsed JSON push body; a 400 naming the first field that is not what Loki takes. */
export const readLokiJson = (body: unknown, maxEntries: number): LokiStream[] => {
  if (!isObject(body)) return refuse("body", "must be an object with streams");
  const streams = body.streams;
  if (!Array.isArray(streams)) return refuse("streams", "must be an array");
  let count = 0;
  return streams.map((s, i) => {
    const path = `streams[${i}]`;
    if (!isObject(s)) return refuse(path, "must be an object");
    const values = s.values;
    if (!Array.isArray(values)) return refuse(`${path}.values`, "must be an array");
    count += values.length;
    if (count > maxEntries)
      throw new DomainError("payload_too_large", `a push holds at most ${maxEntries} entries`);
    return {
      labels: stringPairs(s.stream, `${path}.stream`),
      entries: values.map((v, j) => entry(v, `${path}.values[${j}]`)),
    };
  });
};
