// The bus message format: the hand check never accepts what the schema refuses, and decoding refuses every
// value a store cannot keep, whichever path the check takes.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LEVELS } from "../../src/domain/level.ts";
import { MAX_TIME_MS } from "../../src/domain/time.ts";
import { decodeEvent, plainlyValid, WireEvent } from "../../src/domain/wire.ts";

const valid = {
  v: 1,
  id: "e-1",
  level: "INFO",
  message: "hello",
  source: "api",
  ts: 1_700_000_000_000,
  metadata: { a: 1 },
};

/** Values near the schema's edges, field by field. */
const field = {
  v: fc.constantFrom<unknown>(1, 2, 0, "1", null, undefined),
  id: fc.oneof(fc.string({ minLength: 0, maxLength: 70 }), fc.constantFrom<unknown>(1, null, undefined)),
  level: fc.constantFrom<unknown>(...LEVELS, "info", "", "NOTICE", 3, null, undefined),
  message: fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom<unknown>(1, null, [], undefined)),
  source: fc.oneof(fc.string({ minLength: 0, maxLength: 105 }), fc.constantFrom<unknown>(1, null, undefined)),
  ts: fc.constantFrom<unknown>(
    0,
    -1,
    1.5,
    MAX_TIME_MS,
    MAX_TIME_MS + 1,
    Number.NaN,
    Infinity,
    "1",
    null,
    undefined,
  ),
  metadata: fc.constantFrom<unknown>(null, {}, { a: "b" }, [], [1], "x", 1, undefined),
};

describe("wire format", () => {
  test("whatever the hand check accepts, the schema accepts too (and it accepts the plain case)", () => {
    expect(plainlyValid(valid)).toBe(true);
    // Each field is usually valid, so most candidates differ from a valid event in one or two fields.
    const biased = Object.fromEntries(
      Object.entries(field).map(([k, edge]) => [
        k,
        fc.oneof(
          { arbitrary: fc.constant(valid[k as keyof typeof valid]), weight: 6 },
          { arbitrary: edge, weight: 1 },
        ),
      ]),
    ) as { [K in keyof typeof field]: fc.Arbitrary<unknown> };
    let accepted = 0;
    fc.assert(
      fc.property(fc.record(biased, { requiredKeys: [] }), (candidate) => {
        if (!plainlyValid(candidate)) return;
        accepted++;
        expect(WireEvent.safeParse(candidate).success).toBe(true);
      }),
      { numRuns: 5000 },
    );
    // The generator must reach the accepting side often, or the property says nothing.
    expect(accepted).toBeGreaterThan(100);
  });

  test("a value the hand check refuses is still judged by the schema, with its message", () => {
    const r = decodeEvent(JSON.stringify({ ...valid, level: "NOTICE" }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe("invalid");
    expect(decodeEvent(JSON.stringify({ ...valid, extra: true })).ok).toBe(true);
  });

  const bytes = (text: string) => new TextEncoder().encode(text);
  test.each([
    [
      "a NUL in the message",
      `{"v":1,"id":"a","level":"INFO","message":"x\\u0000y","source":"s","ts":1,"metadata":null}`,
    ],
    [
      "a lone surrogate in a metadata key",
      `{"v":1,"id":"a","level":"INFO","message":"m","source":"s","ts":1,"metadata":{"\\ud800":1}}`,
    ],
    [
      "an infinite number (exponent)",
      `{"v":1,"id":"a","level":"INFO","message":"m","source":"s","ts":1,"metadata":{"n":1e400}}`,
    ],
    [
      "an infinite number (digits)",
      `{"v":1,"id":"a","level":"INFO","message":"m","source":"s","ts":1,"metadata":{"n":${"9".repeat(400)}}}`,
    ],
  ])("refuses %s", (_, text) => {
    for (const value of [text, bytes(text)]) {
      const r = decodeEvent(value);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toBe("invalid");
    }
  });

  test("keeps what only looks suspicious: an escaped backslash before u, a long exponent-like word", () => {
    const text = JSON.stringify({ ...valid, message: "C:\\users\\e400 1e999x", metadata: { path: "\\u" } });
    const r = decodeEvent(bytes(text));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.event.metadata).toEqual({ path: "\\u" });
  });

  test("refuses a string that is not well-formed UTF-16 when handed a JS string", () => {
    const r = decodeEvent(
      `{"v":1,"id":"a","level":"INFO","message":"x\ud800","source":"s","ts":1,"metadata":null}`,
    );
    expect(r.ok).toBe(false);
  });
});
