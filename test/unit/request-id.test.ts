// Request ids: the caller's plain token is kept; otherwise a well-formed UUIDv7 of the request's time, unique.

import { describe, expect, test } from "bun:test";
import { UUID } from "uuidv7";
import { requestIdOf } from "../../src/http/middleware.ts";

const msOf = (id: string): number => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

describe("requestIdOf", () => {
  test("keeps a caller's plain token and replaces anything else", () => {
    expect(requestIdOf("caller-id.1:a_b")).toBe("caller-id.1:a_b");
    for (const bad of [undefined, null, "", "has space", "x".repeat(129), "semi;colon", "ünïcode"])
      expect(requestIdOf(bad)).not.toBe(bad);
  });

  test("makes a version 7, variant 10 UUID of the current millisecond, as an independent parser reads it", () => {
    const before = Date.now();
    const ids = Array.from({ length: 2000 }, () => requestIdOf(undefined));
    const after = Date.now();
    for (const id of ids) {
      const parsed = UUID.parse(id);
      expect(parsed.getVersion()).toBe(7);
      expect(parsed.getVariant()).toBe("VAR_10");
      expect(parsed.toString()).toBe(id);
      expect(msOf(id)).toBeGreaterThanOrEqual(before);
      expect(msOf(id)).toBeLessThanOrEqual(after);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
