// OTLP logs: protobuf and JSON decode to the same request, and records map to events as documented.

import { describe, expect, test } from "bun:test";
import { DomainError } from "../../src/domain/errors.ts";
import { DEFAULT_EVENT_LIMITS } from "../../src/domain/log-event.ts";
import { readOtlpJson } from "../../src/domain/otlp-json.ts";
import { otlpToEvents } from "../../src/domain/otlp-logs.ts";
import { decodeOtlpProtobuf } from "../../src/http/ingest/otlp-proto.ts";
import { encodeOtlpLogs, type RecordInput } from "../helpers/shipper-encode.ts";

const budget = {
  maxBytes: DEFAULT_EVENT_LIMITS.maxMetadataBytes,
  maxDepth: DEFAULT_EVENT_LIMITS.maxMetadataDepth,
  maxSourceLength: DEFAULT_EVENT_LIMITS.maxSourceLength,
};
const TIME_NS = 1_767_225_600_123_456_789n; // 2026-01-01T00:00:00.123456789Z
const TRACE = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const SPAN = Uint8Array.from({ length: 8 }, (_, i) => 0xf0 + i);

const record: RecordInput = {
  timeNs: TIME_NS,
  severityNumber: 13,
  severityText: "Warning",
  body: {
    kvlist: [
      ["user", { string: "ada" }],
      ["n", { int: 3 }],
    ],
  },
  attributes: [
    ["http.status", { int: 503 }],
    ["big", { int: Number.MAX_SAFE_INTEGER }],
    ["ratio", { double: 0.5 }],
    ["ok", { bool: true }],
    ["raw", { bytes: Uint8Array.from([1, 2, 3]) }],
    ["tags", { array: [{ string: "a" }, { int: 1 }] }],
  ],
  traceId: TRACE,
  spanId: SPAN,
  eventName: "checkout.failed",
};

/** The same request in the OTLP/JSON encoding. */
const asJson = {
  resourceLogs: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: "billing" } }] },
      scopeLogs: [
        {
          scope: { name: "lib", version: "2.0" },
          logRecords: [
            {
              timeUnixNano: TIME_NS.toString(),
              severityNumber: 13,
              severityText: "Warning",
              body: {
                kvlistValue: {
                  values: [
                    { key: "user", value: { stringValue: "ada" } },
                    { key: "n", value: { intValue: "3" } },
                  ],
                },
              },
              attributes: [
                { key: "http.status", value: { intValue: "503" } },
                { key: "big", value: { intValue: String(Number.MAX_SAFE_INTEGER) } },
                { key: "ratio", value: { doubleValue: 0.5 } },
                { key: "ok", value: { boolValue: true } },
                { key: "raw", value: { bytesValue: "AQID" } },
                { key: "tags", value: { arrayValue: { values: [{ stringValue: "a" }, { intValue: 1 }] } } },
              ],
              traceId: "0102030405060708090a0b0c0d0e0f10",
              spanId: "f0f1f2f3f4f5f6f7",
              eventName: "checkout.failed",
            },
          ],
        },
      ],
    },
  ],
};

const protobuf = encodeOtlpLogs([
  {
    attributes: [["service.name", { string: "billing" }]],
    scopes: [{ name: "lib", version: "2.0", records: [record] }],
  },
]);

describe("decoding", () => {
  test("protobuf and JSON encodings of one request decode alike", () => {
    expect(decodeOtlpProtobuf(protobuf, 100)).toEqual(readOtlpJson(asJson, 100));
  });

  test("a record maps to level, source, message, time and metadata", () => {
    const { events, droppedAttributes } = otlpToEvents(decodeOtlpProtobuf(protobuf, 100), budget);
    expect(droppedAttributes).toBe(0);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.level).toBe("WARN");
    expect(event?.source).toBe("billing");
    expect(JSON.parse(event?.message ?? "")).toEqual({ user: "ada", n: 3 });
    expect(event?.timestamp).toBe(Date.parse("2026-01-01T00:00:00.123Z"));
    expect({ ...event?.metadata }).toEqual({
      trace_id: "0102030405060708090a0b0c0d0e0f10",
      span_id: "f0f1f2f3f4f5f6f7",
      event_name: "checkout.failed",
      severity_text: "Warning",
      "http.status": 503,
      big: Number.MAX_SAFE_INTEGER,
      ratio: 0.5,
      ok: true,
      raw: "AQID",
      tags: ["a", 1],
      scope: expect.objectContaining({ name: "lib", version: "2.0" }),
      resource: expect.objectContaining({ "service.name": "billing" }),
    });
  });

  test("repeated short strings decode to their own text, even when their hashes collide", () => {
    // "Aa" and "BB" hash alike (31-polynomial): the interning table must compare the bytes.
    const attributes: [string, { string: string }][] = [
      ["Aa", { string: "BB" }],
      ["BB", { string: "Aa" }],
      ["Aa2", { string: "é" }],
      ["BB", { string: "BB" }],
    ];
    const body = encodeOtlpLogs([{ scopes: [{ records: [{ attributes }, { attributes }] }] }]);
    const records = decodeOtlpProtobuf(body, 10)[0]?.scopes[0]?.records ?? [];
    expect(records.map((r) => r.attributes)).toEqual([
      [
        ["Aa", "BB"],
        ["BB", "Aa"],
        ["Aa2", "é"],
        ["BB", "BB"],
      ],
      [
        ["Aa", "BB"],
        ["BB", "Aa"],
        ["Aa2", "é"],
        ["BB", "BB"],
      ],
    ]);
  });

  test("a truncated protobuf body is a 400 naming the message", () => {
    const cut = protobuf.slice(0, protobuf.length - 5);
    expect(() => decodeOtlpProtobuf(cut, 100)).toThrow(/not a valid OTLP ExportLogsServiceRequest/);
  });

  test("more records than the batch limit is a 413 before they are all decoded", () => {
    const many = encodeOtlpLogs([{ scopes: [{ records: Array.from({ length: 11 }, () => ({})) }] }]);
    const error = (() => {
      try {
        decodeOtlpProtobuf(many, 10);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("payload_too_large");
  });

  test("JSON of the wrong shape is a 400 naming the field", () => {
    expect(() => readOtlpJson({ resourceLogs: [{ scopeLogs: [{ logRecords: {} }] }] }, 10)).toThrow(
      "resourceLogs[0].scopeLogs[0].logRecords must be an array",
    );
    expect(() =>
      readOtlpJson({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: "zz" }] }] }] }, 10),
    ).toThrow("traceId must be hex");
  });

  test("a field deep in a record is named by its whole path, and the next request reads as usual", () => {
    const nested = (value: unknown) => ({
      resourceLogs: [
        {},
        {
          scopeLogs: [
            {
              logRecords: [
                {},
                {
                  attributes: [
                    { key: "ok", value: { stringValue: "x" } },
                    { key: "list", value: { arrayValue: { values: [{ intValue: "1" }, value] } } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    const error = (() => {
      try {
        readOtlpJson(nested({ kvlistValue: { values: [{ key: 7 }] } }), 10);
      } catch (e) {
        return e;
      }
    })() as DomainError;
    const field =
      "resourceLogs[1].scopeLogs[0].logRecords[1].attributes[1].value.arrayValue.values[1].kvlistValue.values[0].key";
    expect(error.message).toBe(`${field} must be a string`);
    expect(error.details).toEqual([{ field, message: "must be a string" }]);
    const read = readOtlpJson(nested({ boolValue: true }), 10);
    expect(read[1]?.scopes[0]?.records[1]?.attributes[1]).toEqual(["list", [1, true]]);
  });
});

describe("mapping", () => {
  const oneRecord = (r: Partial<Parameters<typeof otlpToEvents>[0][0]["scopes"][0]["records"][0]>) =>
    otlpToEvents(
      [
        {
          attributes: [],
          scopes: [
            {
              name: "",
              version: "",
              attributes: [],
              records: [
                {
                  timeMs: 0,
                  observedMs: 0,
                  severityNumber: 0,
                  severityText: "",
                  body: "x",
                  attributes: [],
                  traceId: "",
                  spanId: "",
                  eventName: "",
                  ...r,
                },
              ],
            },
          ],
        },
      ],
      budget,
    ).events[0];

  test("severity numbers map by range, the text when the number is unset, INFO when neither says", () => {
    const expected = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    for (let n = 1; n <= 24; n++)
      expect(oneRecord({ severityNumber: n })?.level).toBe(expected[Math.floor((n - 1) / 4)] ?? "");
    expect(oneRecord({ severityText: "error" })?.level).toBe("ERROR");
    expect(oneRecord({ severityText: "critical" })?.level).toBe("FATAL");
    expect(oneRecord({})?.level).toBe("INFO");
  });

  test("no service.name is unknown_service; the observed time stands in for a missing time", () => {
    const event = oneRecord({ observedMs: 1234 });
    expect(event?.source).toBe("unknown_service");
    expect(event?.timestamp).toBe(1234);
    expect(oneRecord({})?.timestamp).toBeUndefined();
  });

  test("an empty body takes the event name, else a placeholder, so the record is kept", () => {
    expect(oneRecord({ body: undefined, eventName: "login" })?.message).toBe("login");
    expect(oneRecord({ body: "" })?.message).toBe("(empty body)");
  });

  test("attributes over the metadata limit are dropped and counted, never the record", () => {
    const attributes: [string, string][] = Array.from({ length: 100 }, (_, i) => [`k${i}`, "v".repeat(500)]);
    const mapped = otlpToEvents(
      [
        {
          attributes: [],
          scopes: [
            {
              name: "",
              version: "",
              attributes: [],
              records: [
                {
                  timeMs: 0,
                  observedMs: 0,
                  severityNumber: 9,
                  severityText: "",
                  body: "big",
                  attributes,
                  traceId: "ab",
                  spanId: "",
                  eventName: "",
                },
              ],
            },
          ],
        },
      ],
      budget,
    );
    const metadata = mapped.events[0]?.metadata ?? {};
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBeLessThanOrEqual(budget.maxBytes);
    expect(metadata.trace_id).toBe("ab");
    expect(metadata.k0).toBe("v".repeat(500));
    expect(mapped.droppedAttributes).toBeGreaterThan(0);
    expect(metadata.dropped_attributes).toBe(mapped.droppedAttributes);
    expect(Object.keys(metadata).length - 2 + mapped.droppedAttributes).toBe(100);
  });

  test("values nested past the depth limit are kept as JSON text", () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 12; i++) deep = { d: deep };
    const event = oneRecord({ attributes: [["deep", deep as never]] });
    let node = event?.metadata?.deep as unknown;
    let depth = 1;
    while (typeof node === "object" && node !== null) {
      node = (node as { d: unknown }).d;
      depth++;
    }
    expect(depth).toBeLessThanOrEqual(DEFAULT_EVENT_LIMITS.maxMetadataDepth);
    expect(typeof node).toBe("string");
    expect(String(node)).toContain('"leaf"');
  });
});
