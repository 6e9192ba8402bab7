// The same events as each protocol's request body: native JSON batch, OTLP (protobuf, JSON), Loki (snappy
// protobuf, JSON). One entry per protocol, so the protocols scenario runs them alike.

import type { LogEvent } from "../../src/domain/log-event.ts";
import {
  type AnyValueInput,
  encodeLokiPush,
  encodeOtlpLogs,
  type RecordInput,
  type ResourceInput,
} from "../../test/helpers/shipper-encode.ts";
import { inputOf } from "./data.ts";

export interface ProtocolEntry {
  name: string;
  /** Path on the producer port. */
  path: string;
  headers: Record<string, string>;
  encode(events: LogEvent[]): Uint8Array | string;
  /** Throws unless the answer says every event of the body was accepted. */
  check(res: Response, count: number): Promise<void>;
}

const SEVERITY: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

const anyValue = (v: unknown): AnyValueInput => {
  if (typeof v === "string") return { string: v };
  if (typeof v === "boolean") return { bool: v };
  if (typeof v === "number") return Number.isInteger(v) ? { int: v } : { double: v };
  if (Array.isArray(v)) return { array: v.map(anyValue) };
  if (v && typeof v === "object") return { kvlist: Object.entries(v).map(([k, x]) => [k, anyValue(x)]) };
  return { string: String(v) };
};

const jsonValue = (v: AnyValueInput): unknown => {
  if ("string" in v) return { stringValue: v.string };
  if ("bool" in v) return { boolValue: v.bool };
  if ("int" in v) return { intValue: String(v.int) };
  if ("double" in v) return { doubleValue: v.double };
  if ("bytes" in v) return { bytesValue: Buffer.from(v.bytes).toString("base64") };
  if ("array" in v) return { arrayValue: { values: v.array.map(jsonValue) } };
  return { kvlistValue: { values: v.kvlist.map(([key, x]) => ({ key, value: jsonValue(x) })) } };
};

/** One resource per source (service.name), as an SDK or a Collector batch groups them. */
const otlpResources = (events: LogEvent[]): ResourceInput[] => {
  const bySource = new Map<string, RecordInput[]>();
  for (const e of events) {
    const records = bySource.get(e.source) ?? [];
    records.push({
      timeNs: BigInt(e.timestamp) * 1_000_000n,
      severityNumber: SEVERITY[e.level] ?? 9,
      severityText: e.level,
      body: { string: e.message },
      attributes: Object.entries(e.metadata ?? {}).map(([k, v]) => [k, anyValue(v)]),
    });
    bySource.set(e.source, records);
  }
  return [...bySource].map(([source, records]) => ({
    attributes: [["service.name", { string: source }]],
    scopes: [{ name: "bench", records }],
  }));
};

const otlpJson = (events: LogEvent[]): string =>
  JSON.stringify({
    resourceLogs: otlpResources(events).map((r) => ({
      resource: { attributes: (r.attributes ?? []).map(([key, v]) => ({ key, value: jsonValue(v) })) },
      scopeLogs: r.scopes.map((s) => ({
        scope: { name: s.name },
        logRecords: s.records.map((rec) => ({
          timeUnixNano: String(rec.timeNs),
          severityNumber: rec.severityNumber,
          severityText: rec.severityText,
          body: rec.body ? jsonValue(rec.body) : undefined,
          attributes: (rec.attributes ?? []).map(([key, v]) => ({ key, value: jsonValue(v) })),
        })),
      })),
    })),
  });

/** One stream per source and level, as Promtail or Alloy label them; the metadata as structured metadata. */
const lokiStreams = (events: LogEvent[]) => {
  const streams = new Map<string, { labels: Record<string, string>; entries: LogEvent[] }>();
  for (const e of events) {
    const key = `${e.source}\u0000${e.level}`;
    const s = streams.get(key) ?? {
      labels: { service_name: e.source, level: e.level.toLowerCase() },
      entries: [],
    };
    s.entries.push(e);
    streams.set(key, s);
  }
  return [...streams.values()];
};

const flat = (metadata: LogEvent["metadata"]): [string, string][] =>
  Object.entries(metadata ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]);

const expectStatus = async (res: Response, status: number): Promise<string> => {
  const text = await res.text();
  if (res.status !== status) throw new Error(`answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
};

export const NATIVE: ProtocolEntry = {
  name: "native batch",
  path: "/producer/api/logs/batch",
  headers: { "content-type": "application/json" },
  encode: (events) => JSON.stringify(events.map(inputOf)),
  check: async (res, count) => {
    const body = JSON.parse(await expectStatus(res, 200)) as { successCount?: number };
    if (body.successCount !== count) throw new Error(`accepted ${body.successCount} of ${count}`);
  },
};

export const SHIPPER_PROTOCOLS: ProtocolEntry[] = [
  {
    name: "OTLP protobuf",
    path: "/v1/logs",
    headers: { "content-type": "application/x-protobuf" },
    encode: (events) => encodeOtlpLogs(otlpResources(events)),
    check: async (res) => {
      // An empty ExportLogsServiceResponse: no partialSuccess, nothing refused.
      if ((await expectStatus(res, 200)).length !== 0) throw new Error("some records were refused");
    },
  },
  {
    name: "OTLP JSON",
    path: "/v1/logs",
    headers: { "content-type": "application/json" },
    encode: otlpJson,
    check: async (res) => {
      const text = await expectStatus(res, 200);
      if (text !== "{}") throw new Error(`some records were refused: ${text.slice(0, 300)}`);
    },
  },
  {
    name: "Loki snappy protobuf",
    path: "/loki/api/v1/push",
    headers: { "content-type": "application/x-protobuf" },
    encode: (events) =>
      encodeLokiPush(
        lokiStreams(events).map((s) => ({
          labels: `{${Object.entries(s.labels)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(", ")}}`,
          entries: s.entries.map((e) => ({
            seconds: Math.floor(e.timestamp / 1000),
            nanos: (e.timestamp % 1000) * 1_000_000,
            line: e.message,
            metadata: flat(e.metadata),
          })),
        })),
      ),
    check: async (res) => {
      await expectStatus(res, 204);
    },
  },
  {
    name: "Loki JSON",
    path: "/loki/api/v1/push",
    headers: { "content-type": "application/json" },
    encode: (events) =>
      JSON.stringify({
        streams: lokiStreams(events).map((s) => ({
          stream: s.labels,
          values: s.entries.map((e) => [
            `${e.timestamp}000000`,
            e.message,
            Object.fromEntries(flat(e.metadata)),
          ]),
        })),
      }),
    check: async (res) => {
      await expectStatus(res, 204);
    },
  },
];
