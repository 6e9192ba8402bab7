// Splitting batch bodies into items: counted before kept, bounded failures, per-item size limit, time slices.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { DomainError, MalformedItem } from "../../src/domain/errors.ts";
import { jsonArrayItems, ndjsonItems } from "../../src/http/batch-items.ts";
import type { TimeSlicer } from "../../src/services/time-slices.ts";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const LIMITS = { maxEvents: 10_000, maxEventBytes: 256 * 1024 };

const failure = async (run: () => Promise<unknown>): Promise<DomainError> => {
  try {
    await run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
};

/** A slicer whose slice is always spent: every place that may pause does, and is counted. */
const counting = () => {
  const slicer: TimeSlicer & { pauses: number } = {
    pauses: 0,
    due: () => true,
    pause: async () => {
      slicer.pauses++;
    },
  };
  return slicer;
};

const reasons = (items: unknown[]): string[] =>
  items.filter((i): i is MalformedItem => i instanceof MalformedItem).map((i) => i.reason);

describe("ndjsonItems", () => {
  test("one value per line; blank lines, CRLF, a BOM and a final newline are fine", async () => {
    const text = '\ufeff{"a":1}\r\n\n  {"b":2}  \n\u00a0\n[3]\n';
    expect(await ndjsonItems(bytes(text), LIMITS)).toEqual([{ a: 1 }, { b: 2 }, [3]]);
  });

  test("a line that is not JSON becomes a malformed item naming the line, the others still parse", async () => {
    const items = await ndjsonItems(bytes('{"a":1}\n{oops\n{"c":3}'), LIMITS);
    expect(items).toHaveLength(3);
    expect(items[0]).toEqual({ a: 1 });
    expect(reasons(items)[0]).toStartWith("line 2 is not valid JSON");
    expect(items[2]).toEqual({ c: 3 });
  });

  test("an empty body is an empty batch", async () => {
    expect(await ndjsonItems(bytes(""), LIMITS)).toEqual([]);
    expect(await ndjsonItems(bytes("\n\n"), LIMITS)).toEqual([]);
  });

  test("5 million malformed lines are refused 413 naming the limit, once the count passes it", async () => {
    const error = await failure(() => ndjsonItems(bytes("x\n".repeat(5_000_000)), LIMITS));
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain("10000");
    expect(error.message).toContain("MAX_BATCH_EVENTS");
  });

  test("exactly the limit is read; one more line is refused", async () => {
    const limits = { ...LIMITS, maxEvents: 3 };
    expect(await ndjsonItems(bytes("1\n2\n3\n\n"), limits)).toEqual([1, 2, 3]);
    expect((await failure(() => ndjsonItems(bytes("1\n2\n3\n4"), limits))).code).toBe("payload_too_large");
  });

  test("only the first 100 failures keep their own wording", async () => {
    const items = await ndjsonItems(
      bytes(Array.from({ length: 300 }, (_, i) => `bad${i}`).join("\n")),
      LIMITS,
    );
    const words = reasons(items);
    expect(words).toHaveLength(300);
    expect(words[99]).toStartWith("line 100 is not valid JSON");
    expect(new Set(words.slice(100))).toEqual(new Set(["is not valid JSON"]));
  });

  test("a line over the per-event limit is a failed item, never parsed", async () => {
    const limits = { ...LIMITS, maxEventBytes: 1024 };
    const big = JSON.stringify({ message: "m".repeat(2000) });
    const items = await ndjsonItems(bytes(`{"a":1}\n${big}\n{"b":2}`), limits);
    expect(items[0]).toEqual({ a: 1 });
    expect(reasons(items)).toEqual(["line 2 is larger than 1024 bytes (MAX_EVENT_BYTES)"]);
    expect(items[2]).toEqual({ b: 2 });
  });

  test("a long body is read in slices, pausing between them", async () => {
    const slicer = counting();
    await ndjsonItems(bytes('{"a":1}\n'.repeat(1000)), LIMITS, slicer);
    expect(slicer.pauses).toBeGreaterThan(0);
  });
});

describe("jsonArrayItems", () => {
  test("gives exactly what JSON.parse gives for any JSON array", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue(), { maxLength: 40 }), fc.boolean(), async (value, pretty) => {
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        expect(await jsonArrayItems(bytes(text), LIMITS)).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  test("strings holding brackets, commas, quotes and backslashes do not split elements", async () => {
    const value = ["a,b", "]", "[{", '"', "\\", '\\"],[', { "k]": ["x,", "\\\\"] }];
    expect(await jsonArrayItems(bytes(JSON.stringify(value)), LIMITS)).toEqual(value);
  });

  test.each([["[1,]"], ["[,1]"], ["[1 2]"], ["["], ["[1"], ["[1]x"], ["[{]"], ['["a]'], ["[1,,2]"], ["[]]"]])(
    "%p is malformed JSON",
    async (text) => {
      expect((await failure(() => jsonArrayItems(bytes(text), LIMITS))).code).toBe("malformed_json");
    },
  );

  test("an empty body is malformed; a JSON value that is not an array is not a batch", async () => {
    expect((await failure(() => jsonArrayItems(bytes("  "), LIMITS))).code).toBe("malformed_json");
    expect((await failure(() => jsonArrayItems(bytes('{"a":1}'), LIMITS))).code).toBe("validation_failed");
    expect((await failure(() => jsonArrayItems(bytes("{oops"), LIMITS))).code).toBe("malformed_json");
  });

  test("a 10 MB array of 5 million zeros is refused 413 naming the limit", async () => {
    const text = `[${"0,".repeat(5_000_000)}0]`;
    const error = await failure(() => jsonArrayItems(bytes(text), LIMITS));
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain("MAX_BATCH_EVENTS");
  });

  test("an element over the per-event limit is a failed item in its place, never parsed", async () => {
    const limits = { ...LIMITS, maxEventBytes: 1024 };
    const text = `[{"a":1},[${"0,".repeat(1000)}0],{"b":2}]`;
    const items = await jsonArrayItems(bytes(text), limits);
    expect(items).toHaveLength(3);
    expect(items[0]).toEqual({ a: 1 });
    expect(reasons(items)).toEqual(["item 1 is larger than 1024 bytes (MAX_EVENT_BYTES)"]);
    expect(items[2]).toEqual({ b: 2 });
  });

  test("a long array is read in slices, pausing between them", async () => {
    const slicer = counting();
    await jsonArrayItems(
      bytes(JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ i })))),
      LIMITS,
      slicer,
    );
    expect(slicer.pauses).toBeGreaterThan(0);
  });
});
