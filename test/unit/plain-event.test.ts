// The hand check of ingest events: it never accepts what the schema refuses, it yields the schema's event when
// both accept, and every event it leaves to the schema gets the schema's answer, errors word for word.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LEVELS } from "../../src/domain/level.ts";
import {
  DEFAULT_EVENT_LIMITS,
  type EventParseResult,
  makeEventParser,
  makeSchemaEventParser,
} from "../../src/domain/log-event.ts";
import { plainEvent } from "../../src/domain/plain-event.ts";
import { MAX_TIME_MS } from "../../src/domain/time.ts";
import { bodyOf, eventArb } from "../hostile/event-arbitraries.ts";

const limits = DEFAULT_EVENT_LIMITS;
const parse = makeEventParser(limits);
const bySchema = makeSchemaEventParser(limits);
const RECEIVED = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PREFIX = "events.7.";

/** A result with a generated id replaced, so that two verdicts on an id-less event compare. */
const sameIds = (result: EventParseResult, id: string): EventParseResult =>
  result.ok ? { ok: true, event: { ...result.event, id } } : result;

const idGiven = (raw: Record<string, unknown>): boolean => raw.id !== undefined && raw.id !== null;

/**
 * Judges one candidate by the hand check, the schema alone and the parser ingest uses; fails on any
 * disagreement. Returns whether the hand check accepted it.
 */
const agree = (raw: Record<string, unknown>): boolean => {
  const plain = plainEvent(raw, limits, RECEIVED);
  const schema = bySchema(raw, RECEIVED, PREFIX);
  const used = parse(raw, RECEIVED, PREFIX);
  if (plain) {
    if (!schema.ok)
      throw new Error(`the hand check accepted what the schema refuses: ${JSON.stringify(schema.issues)}`);
    if (!idGiven(raw)) expect(plain.id).toMatch(UUIDV7);
    expect(plain).toEqual({ ...schema.event, id: plain.id });
    if (idGiven(raw)) expect(plain.id).toBe(schema.event.id);
    // The metadata read back is the object the client sent, whichever path accepted it.
    expect(plain.metadata).toBe(schema.event.metadata);
  }
  if (used.ok && schema.ok) expect(sameIds(used, "id")).toEqual(sameIds(schema, "id"));
  else expect(used).toEqual(schema);
  return plain !== undefined;
};

const nested = (depth: number, inner: unknown = {}): unknown =>
  depth <= 1 ? inner : { a: nested(depth - 1, inner) };
const nestedArrays = (depth: number): unknown => (depth <= 1 ? [] : [nestedArrays(depth - 1)]);

/** A unit repeated so that the text lands within two units of a byte limit, on either side of it. */
const nearBytes = (bytes: number, size: (unit: string) => number) =>
  fc
    .tuple(
      fc.constantFrom("x", "é", "中", "😀", "\u0001", '"', "\\", "\u2028"),
      fc.integer({ min: -2, max: 2 }),
    )
    .map(([unit, step]) => unit.repeat(Math.max(0, Math.floor(bytes / size(unit)) + step)));
const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");
/** Text within two characters of a length limit: one UTF-16 unit each, or two (an emoji), or mixed. */
const nearLength = (max: number) =>
  fc.tuple(fc.constantFrom("s", "😀", "é😀"), fc.integer({ min: -2, max: 2 })).map(([unit, step]) => {
    const chars = [...unit];
    return Array.from({ length: max + step }, (_, i) => chars[i % chars.length]).join("");
  });
/** Bytes a unit takes inside a JSON string: "\u0001" takes six. */
const serialized = (unit: string): number => utf8(JSON.stringify(unit)) - 2;

/** Characters near the schema's rules: NUL, lone and paired surrogates, code points past one UTF-16 unit. */
const oddText = fc.constantFrom(
  "a\u0000b",
  "\ud800",
  "x\udc00",
  "\udc00\ud800",
  "😀",
  "é",
  " ",
  "\t",
  ".",
  "..",
);

class SizedList extends Array<unknown> {
  toJSON(): string {
    return "x".repeat(17_000);
  }
}

const edge = {
  level: fc.constantFrom<unknown>(...LEVELS, "info", " Warn ", "\tFATAL\n", "", "NOTICE", "INF", 3, null, []),
  message: fc.oneof(
    nearBytes(limits.maxMessageBytes, utf8),
    oddText,
    fc.constantFrom<unknown>("", 0, null, ["m"], { m: 1 }),
  ),
  source: fc.oneof(nearLength(limits.maxSourceLength), oddText, fc.constantFrom<unknown>("", 1, null)),
  timestamp: fc.oneof(
    fc.integer({ min: MAX_TIME_MS - 2, max: MAX_TIME_MS + 2 }),
    fc.integer({ min: -2, max: 2 }),
    fc.constantFrom<unknown>(
      -0,
      1.5,
      Number.NaN,
      Infinity,
      1e21,
      "0",
      " 1700000000000 ",
      "1700000000000.5",
      "2024-03-05T10:11:12Z",
      "2024-03-05t10:11:12.123456+0200",
      "2024-03-05",
      "10000-01-01T00:00:00Z",
      "1969-12-31T23:59:59.999Z",
      "",
      true,
      {},
      new Date(0),
    ),
  ),
  id: fc.oneof(
    nearLength(limits.maxIdLength),
    oddText,
    fc.constantFrom<unknown>("", "...", "0190e123-4567-7abc-8def-0123456789ab", 7, [], false),
  ),
  metadata: fc.oneof(
    nearBytes(limits.maxMetadataBytes - 8, serialized).map((k) => ({ k })),
    // {"b":[x,x,…]} of scalars at their longest: the bytes are in numbers, booleans or nulls.
    fc
      .tuple(
        // -0.0000033333333333333333 and -3.3333333333333334e-301: 25 and 24 characters.
        fc.constantFrom<unknown>(true, false, null, -(1 / 3) * 1e-5, -(1 / 3) * 1e-300, 123),
        fc.integer({ min: -2, max: 2 }),
      )
      .map(([scalar, step]) => {
        const n = Math.floor((limits.maxMetadataBytes - 7) / (JSON.stringify(scalar).length + 1)) + step;
        return { b: Array.from({ length: n }, () => scalar) };
      }),
    // {"…":""}: the bytes are in a key.
    nearBytes(limits.maxMetadataBytes - 7, serialized).map((k) => ({ [k]: "" })),
    // {"list":["…"]} and {"list":["…","…"]}: the bytes are inside arrays.
    nearBytes(limits.maxMetadataBytes - 13, serialized).map((k) => ({ list: [k] })),
    nearBytes((limits.maxMetadataBytes - 17) / 2, serialized).map((k) => ({ list: [k, k] })),
    fc.integer({ min: 7, max: 10 }).map((d) => nested(d)),
    fc.integer({ min: 7, max: 10 }).map((d) => ({ list: nestedArrays(d - 1) })),
    fc.constantFrom<unknown>(
      {},
      [],
      [1],
      "x",
      1,
      true,
      { u: undefined },
      { n: Number.NaN },
      { n: Infinity },
      { n: -0, big: 1.7976931348623157e308, tiny: 5e-324 },
      { d: new Date(0) },
      { f: () => 1 },
      new Date(0),
      new (class Tagged {
        readonly tag = "t";
      })(),
      // Serialized by a prototype's toJSON, past the size limit.
      { list: SizedList.from([1]) },
      new (class Sized {
        toJSON() {
          return "x".repeat(17_000);
        }
      })(),
      {
        inner: new (class Sized {
          toJSON() {
            return "x".repeat(17_000);
          }
        })(),
      },
      Object.assign(Object.create(null), { k: "v" }),
      { "ke\u0000y": 1 },
      { "\ud800": 1 },
      { list: ["ok", "x\udfff"] },
      { deep: nested(3, { s: "a\u0000" }) },
      JSON.parse('{"__proto__":{"a":1}}'),
      JSON.parse('{"__proto__":{"a":"\\u0000"}}'),
      JSON.parse('{"a":1,"a":2,"toJSON":"x"}'),
    ),
  ),
};

const valid: Record<keyof typeof edge, unknown> = {
  level: "INFO",
  message: "user signed in",
  source: "auth",
  timestamp: 1_700_000_000_000,
  id: "e-1",
  metadata: { user: 42, tags: ["a", "b"], http: { status: 200 } },
};

/** Each field usually valid, so most candidates differ from a valid event in one field or two. */
const candidate = fc
  .tuple(
    fc.record(
      Object.fromEntries(
        Object.entries(edge).map(([k, near]) => [
          k,
          fc.oneof(
            { arbitrary: fc.constant(valid[k as keyof typeof edge]), weight: 5 },
            { arbitrary: near, weight: 1 },
          ),
        ]),
      ) as { [K in keyof typeof edge]: fc.Arbitrary<unknown> },
      { requiredKeys: [] },
    ),
    fc.boolean(),
  )
  // Some events are objects without a prototype: the schema reads them like any other.
  .map(
    ([fields, bare]) =>
      (bare ? Object.assign(Object.create(null), fields) : fields) as Record<string, unknown>,
  );

describe("the hand check of ingest events", () => {
  test("accepts a plain event, as the schema does", () => {
    expect(agree({ ...valid })).toBe(true);
    const { id: _id, timestamp: _ts, ...defaults } = valid;
    expect(agree(defaults)).toBe(true);
  });

  test("agrees with the schema on hostile JSON bodies: NUL, lone surrogates, limits crossed, wrong types", () => {
    let accepted = 0;
    let left = 0;
    fc.assert(
      fc.property(eventArb, (e) => {
        if (agree(JSON.parse(bodyOf(e, "pe")) as Record<string, unknown>)) accepted++;
        else left++;
      }),
      { numRuns: 3000 },
    );
    // Both paths must be reached often, or the property says little.
    expect(accepted).toBeGreaterThan(500);
    expect(left).toBeGreaterThan(300);
  });

  test("agrees with the schema within a few units of every limit, and on values JSON cannot carry", () => {
    let accepted = 0;
    let left = 0;
    fc.assert(
      fc.property(candidate, (raw) => {
        if (agree(raw)) accepted++;
        else left++;
      }),
      { numRuns: 5000 },
    );
    expect(accepted).toBeGreaterThan(500);
    expect(left).toBeGreaterThan(500);
  });

  test("counts limits as the schema does: bytes for the message, serialized bytes for metadata", () => {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ ...valid, message: "é".repeat(16 * 1024) }, true],
      [{ ...valid, message: "é".repeat(16 * 1024 + 1) }, false],
      [{ ...valid, message: "😀".repeat(8 * 1024) }, true],
      // {"k":"…"} is 8 bytes around six per "\u0001": 16,382 bytes, then 16,388.
      [{ ...valid, metadata: { k: "\u0001".repeat(2729) } }, true],
      [{ ...valid, metadata: { k: "\u0001".repeat(2730) } }, false],
      [{ ...valid, id: "i".repeat(64), source: "s".repeat(100) }, true],
      [{ ...valid, id: "i".repeat(65) }, false],
      [{ ...valid, source: "s".repeat(101) }, false],
      [{ ...valid, metadata: nested(8) }, true],
      [{ ...valid, metadata: nested(9) }, false],
    ];
    for (const [raw, ok] of cases) {
      agree(raw);
      expect(parse(raw, RECEIVED).ok).toBe(ok);
    }
  });

  test("leaves to the schema what it counts differently: 100 emoji are 200 UTF-16 units but 100 characters", () => {
    const raw = { ...valid, source: "😀".repeat(100), id: "😀".repeat(64) };
    expect(plainEvent(raw, limits, RECEIVED)).toBeUndefined();
    expect(agree(raw)).toBe(false);
    expect(parse(raw, RECEIVED).ok).toBe(true);
  });
});
