// New event ids: version 7 UUIDs in the uuidv7 package's own text, unique and in the order they were made.

import { describe, expect, test } from "bun:test";
import { UUID } from "uuidv7";
import { newEventId } from "../../src/domain/event-id.ts";

const msOf = (id: string): number => Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16);

describe("newEventId", () => {
  test("makes a version 7, variant 10 UUID of the current millisecond, written as the package writes it", () => {
    const before = Date.now();
    const ids = Array.from({ length: 5000 }, () => newEventId());
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

  test("ids made one after another sort in the order they were made", () => {
    const ids = Array.from({ length: 5000 }, () => newEventId());
    expect([...ids].sort()).toEqual(ids);
  });
});
