// Loki push: label syntax, both encodings decoded alike, entries mapped to events as documented.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { DomainError } from "../../src/domain/errors.ts";
import { DEFAULT_EVENT_LIMITS } from "../../src/domain/log-event.ts";
import { readLokiJson } from "../../src/domain/loki-json.ts";
import { parseLabels } from "../../src/domain/loki-labels.ts";
import { lokiToEvents } from "../../src/domain/loki-push.ts";
import { fitMetadata, fitTextPairs } from "../../src/domain/metadata-fit.ts";
import { decodeLokiProtobuf, unsnappy } from "../../src/http/ingest/loki-proto.ts";
import { encodeLokiPush } from "../helpers/shipper-encode.ts";

const budget = {
  maxBytes: DEFAULT_EVENT_LIMITS.maxMetadataBytes,
  maxDepth: DEFAULT_EVENT_LIMITS.maxMetadataDepth,
  maxSourceLength: DEFAULT_EVENT_LIMITS.maxSourceLength,
};

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return error instanceof DomainError ? error.code : `not a DomainError: ${String(error)}`;
  }
  return undefined;
};

describe("labels", () => {
  test("Prometheus label syntax with escapes", () => {
    expect(parseLabels('{app="web", msg="say \\"hi\\"\\n", path="c:\\\\x"}')).toEqual([
      ["app", "web"],
      ["msg", 'say "hi"\n'],
      ["path", "c:\\x"],
    ]);
    expect(parseLabels("{}")).toEqual([]);
    expect(parseLabels('{a="1",}')).toEqual([["a", "1"]]);
  });

  test("anything else is a 400 saying what is wrong", () => {
    for (const bad of ['app="web"', "{app=web}", '{app="web}', '{="x"}', '{a="1" b="2"}', '{a="\\q"}'])
      expect(codeOf(() => parseLabels(bad))).toBe("validation_failed");
  });
});

describe("decoding", () => {
  const T = 1_767_225_600;
  const pushed = encodeLokiPush([
    {
      labels: '{service_name="shop", level="warn"}',
      entries: [
        { seconds: T, nanos: 5_000_000, line: "first", metadata: [["trace_id", "abc"]] },
        { seconds: T + 1, line: "second" },
      ],
    },
  ]);
  const json = {
    streams: [
      {
        stream: { service_name: "shop", level: "warn" },
        values: [
          [`${T}005000000`, "first", { trace_id: "abc" }],
          [`${T + 1}000000000`, "second"],
        ],
      },
    ],
  };

  test("snappy protobuf and JSON decode alike", () => {
    expect(decodeLokiProtobuf(unsnappy(pushed, 1 << 20), 100)).toEqual(readLokiJson(json, 100));
  });

  test("a snappy body that would expand past the limit is a 413, garbage a 400", () => {
    const big = encodeLokiPush([{ labels: '{a="b"}', entries: [{ seconds: 1, line: "x".repeat(100_000) }] }]);
    expect(codeOf(() => unsnappy(big, 10_000))).toBe("payload_too_large");
    // A header claiming 1 MiB + 1 bytes is refused from the header alone.
    expect(codeOf(() => unsnappy(Uint8Array.from([0x81, 0x80, 0x40, 1, 2, 3]), 1 << 20))).toBe(
      "payload_too_large",
    );
    expect(codeOf(() => decodeLokiProtobuf(unsnappy(Uint8Array.from([5, 0, 1]), 1 << 20), 100))).toBe(
      "validation_failed",
    );
  });

  test("JSON of the wrong shape is a 400 naming the field", () => {
    expect(() => readLokiJson({ streams: [{ stream: {}, values: [["1", 2]] }] }, 10)).toThrow(
      "streams[0].values[0][1] must be a string",
    );
    expect(() => readLokiJson({ streams: [{ stream: { a: 1 }, values: [] }] }, 10)).toThrow(
      "streams[0].stream.a must be a string",
    );
    expect(
      codeOf(() =>
        readLokiJson(
          {
            streams: [
              {
                values: [
                  ["1", "a"],
                  ["2", "b"],
                ],
              },
            ],
          },
          1,
        ),
      ),
    ).toBe("payload_too_large");
  });
});

describe("mapping", () => {
  const map = (labels: [string, string][], metadata: [string, string][] = []) =>
    lokiToEvents([{ labels, entries: [{ timeMs: 42, line: "hello", structuredMetadata: metadata }] }], budget)
      .events[0];

  test("source from service_name, then job, then app; unknown_service without them", () => {
    expect(
      map([
        ["app", "a"],
        ["job", "j"],
        ["service_name", "s"],
      ])?.source,
    ).toBe("s");
    expect(
      map([
        ["app", "a"],
        ["job", "j"],
      ])?.source,
    ).toBe("j");
    expect(map([["app", "a"]])?.source).toBe("a");
    expect(map([["env", "prod"]])?.source).toBe("unknown_service");
  });

  test("level from the entry's structured metadata before the stream's labels; INFO when none says", () => {
    expect(map([["level", "error"]])?.level).toBe("ERROR");
    expect(map([["detected_level", "warn"]])?.level).toBe("WARN");
    expect(map([["level", "error"]], [["level", "debug"]])?.level).toBe("DEBUG");
    expect(map([["level", "shouting"]])?.level).toBe("INFO");
    expect(map([])?.level).toBe("INFO");
  });

  test("labels then structured metadata become metadata; line → message; time kept", () => {
    const event = map(
      [
        ["app", "a"],
        ["env", "prod"],
      ],
      [["trace_id", "t1"]],
    );
    expect({ ...event?.metadata }).toEqual({ app: "a", env: "prod", trace_id: "t1" });
    expect(event?.message).toBe("hello");
    expect(event?.timestamp).toBe(42);
  });
});

describe("metadata of labels and structured metadata", () => {
  const pairs = fc.array(
    fc.tuple(fc.constantFrom("app", "env", "level", "trace_id", "a"), fc.string({ maxLength: 30 })),
    { maxLength: 6 },
  );

  test("is what fitMetadata makes of the two lists as one, within and over the byte limit", () => {
    fc.assert(
      fc.property(pairs, pairs, fc.integer({ min: 40, max: 400 }), (labels, metadata, maxBytes) => {
        const limits = { maxBytes, maxDepth: budget.maxDepth };
        const fitted = fitTextPairs(labels, metadata, limits);
        const expected = fitMetadata([...labels, ...metadata], [], limits);
        expect(fitted.dropped).toBe(expected.dropped);
        // As text: the same keys in the same order.
        expect(JSON.stringify(fitted.metadata)).toBe(JSON.stringify(expected.metadata));
      }),
      { numRuns: 2000 },
    );
  });
});
