// The in-memory cache stays within its bounds under a flood of distinct keys: keys count toward the size,
// and the number of entries is capped however small each answer is.

import { describe, expect, test } from "bun:test";
import { BoundedEntries } from "../../src/adapters/cache/entries.ts";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";

const entriesOf = async (cache: MemoryCache): Promise<number> =>
  Number(/(\d+) entries/.exec((await cache.health()).detail ?? "")?.[1] ?? Number.NaN);

describe("BoundedEntries", () => {
  test("counts keys toward the size bound: long keys with tiny values evict the oldest", () => {
    const e = new BoundedEntries(1_000_000, 10_000);
    const key = (i: number) => `/search?query=${"x".repeat(480)}&n=${i}`;
    for (let i = 0; i < 1_000; i++) e.put(key(i), "1", Date.now() + 60_000);
    expect(e.chars).toBeLessThanOrEqual(10_000);
    expect(e.count).toBeLessThanOrEqual(20);
    expect(e.value(key(999))).toBe("1");
    expect(e.value(key(0))).toBeUndefined();
  });

  test("peeked bytes count toward the size bound at once: peeking evicts the oldest, never overshoots", () => {
    const e = new BoundedEntries(1_000, 10_000);
    const value = "v".repeat(1_000);
    for (let i = 0; i < 9; i++) e.put(`k${i}`, value, Date.now() + 60_000);
    for (let i = 0; i < 9; i++) {
      expect(e.blob(`k${i}`)?.size).toBe(1_000);
      expect(e.chars).toBeLessThanOrEqual(10_000);
    }
    expect(e.value("k8")).toBe(value);
    expect(e.value("k0")).toBeUndefined();
  });

  test("caps entries however small they are", () => {
    const e = new BoundedEntries(100, 1_000_000);
    for (let i = 0; i < 10_000; i++) e.put(`k${i}`, "", Date.now() + 60_000);
    expect(e.count).toBe(100);
    expect(e.value("k9999")).toBe("");
    expect(e.value("k0")).toBeUndefined();
  });

  test("accounts back to zero when every entry is replaced, peeked and evicted", () => {
    const e = new BoundedEntries(10, 1_000);
    for (let i = 0; i < 50; i++) {
      e.put(`k${i % 7}`, "v".repeat(i), Date.now() + 60_000);
      e.blob(`k${i % 7}`);
    }
    expect(e.chars).toBeLessThanOrEqual(1_000);
    e.clear();
    expect(e.chars).toBe(0);
  });

  test("an entry whose key alone is over the bound is not kept", () => {
    const e = new BoundedEntries(10, 100);
    e.put("k".repeat(101), "", Date.now() + 60_000);
    expect(e.count).toBe(0);
    expect(e.chars).toBe(0);
  });
});

describe("MemoryCache under a flood of distinct keys", () => {
  test("stays within its default entry cap", async () => {
    const cache = new MemoryCache();
    for (let i = 0; i < 100_000; i++) await cache.set(`logs?size=1&n=${i}`, "{}", 60_000);
    expect(await entriesOf(cache)).toBeLessThanOrEqual(20_000);
    expect(await cache.get("logs?size=1&n=99999")).toBe("{}");
  });

  test("stays within the entry and size caps it is given", async () => {
    const cache = new MemoryCache({ maxEntries: 500, maxChars: 20_000 });
    for (let i = 0; i < 10_000; i++) await cache.set(`${"q".repeat(100)}${i}`, "[]", 60_000);
    // 100-character keys: the size cap (about 190 entries) binds before the entry cap.
    expect(await entriesOf(cache)).toBeLessThanOrEqual(20_000 / 100);
    const small = new MemoryCache({ maxEntries: 500, maxChars: 20_000_000 });
    for (let i = 0; i < 10_000; i++) await small.set(`k${i}`, "[]", 60_000);
    expect(await entriesOf(small)).toBe(500);
  });
});
