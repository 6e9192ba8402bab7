// Request ids: well-formed UUIDv7 whose time is the request's, unique, drawn from fresh random bits.

import { describe, expect, test } from "bun:test";
import { UUID } from "uuidv7";
import { requestUuid } from "../../src/http/request-id.ts";

const SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const msOf = (id: string): number => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

describe("requestUuid", () => {
  test("is a version 7, variant 10 UUID as an independent parser reads it", () => {
    for (let i = 0; i < 2000; i++) {
      const id = requestUuid();
      expect(id).toMatch(SHAPE);
      const parsed = UUID.parse(id);
      expect(parsed.getVariant()).toBe("VAR_10");
      expect(parsed.getVersion()).toBe(7);
      expect(parsed.toString()).toBe(id);
    }
  });

  test("carries the millisecond it was made in, and ids of later milliseconds sort after", () => {
    const times = [0, 1, 1_700_000_000_000, 1_700_000_000_001, 253_402_300_799_999, 2 ** 48 - 1];
    const ids = times.map((t) => requestUuid(t));
    expect(ids.map(msOf)).toEqual(times);
    expect([...ids].sort()).toEqual(ids);
    const before = Date.now();
    const now = requestUuid();
    expect(msOf(now)).toBeGreaterThanOrEqual(before);
    expect(msOf(now)).toBeLessThanOrEqual(Date.now());
  });

  test("ids made in one millisecond are distinct, across many refills of the random pool", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) seen.add(requestUuid(1_700_000_000_000));
    expect(seen.size).toBe(200_000);
  });

  test("every random bit varies, and the version and variant bits never do", () => {
    let or = 0n;
    let and = (1n << 128n) - 1n;
    for (let i = 0; i < 5000; i++) {
      const v = BigInt(`0x${requestUuid(0).replaceAll("-", "")}`);
      or |= v;
      and &= v;
    }
    // Layout from the low end: rand_b (62 bits), variant (2), rand_a (12), version (4), time (48).
    const random = (((1n << 12n) - 1n) << 64n) | ((1n << 62n) - 1n);
    expect(or & random).toBe(random);
    expect(and & random).toBe(0n);
    const fixed = (0xfn << 76n) | (0x3n << 62n);
    expect(or & fixed).toBe((0x7n << 76n) | (0x2n << 62n));
    expect(and & fixed).toBe((0x7n << 76n) | (0x2n << 62n));
  });
});
