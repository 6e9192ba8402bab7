// The QueryCache contract: every cache adapter (and every wrapper around one) must pass it.

import { afterEach, describe, expect, test } from "bun:test";
import type { QueryCache } from "../../src/ports/query-cache.ts";

export interface QueryCacheFixture {
  cache: QueryCache;
  /** Stops the cache and removes what the fixture created. */
  cleanup: () => Promise<void>;
}

/** Each call must give a cache isolated from every other call's (a unique key prefix, a fresh instance). */
export type MakeQueryCache = () => Promise<QueryCacheFixture>;

const eventually = async (check: () => Promise<boolean>, withinMs: number): Promise<boolean> => {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(20);
  }
  return true;
};

export interface ContractOptions {
  /** The adapter keeps what it sets in this process, so peek() must find it. */
  inProcess: boolean;
}

const text = async (blob: Blob | undefined): Promise<string | undefined> => blob?.text();

export const queryCacheContract = (name: string, make: MakeQueryCache, opts: ContractOptions): void => {
  describe(`QueryCache contract: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
    });
    const open = async (): Promise<QueryCache> => {
      const f = await make();
      cleanups.push(f.cleanup);
      await f.cache.start();
      return f.cache;
    };

    test("a key never set is a miss", async () => {
      const cache = await open();
      expect(await cache.get("absent")).toBeUndefined();
    });

    test("returns what was set, byte for byte", async () => {
      const cache = await open();
      const value = JSON.stringify({ message: "ünïcödé ✓ 日本語 😀", quote: '"', nl: "a\nb", colon: "a:b" });
      await cache.set("k", value, 60_000);
      expect(await cache.get("k")).toBe(value);
    });

    test("an empty string is a value, not a miss", async () => {
      const cache = await open();
      await cache.set("empty", "", 60_000);
      expect(await cache.get("empty")).toBe("");
    });

    test("a later set replaces the value", async () => {
      const cache = await open();
      await cache.set("k", "one", 60_000);
      await cache.set("k", "two", 60_000);
      expect(await cache.get("k")).toBe("two");
    });

    test("keys are independent, including long keys that differ only at the end", async () => {
      const cache = await open();
      const long = "q:17:".padEnd(5000, "x");
      await cache.set(`${long}a`, "A", 60_000);
      await cache.set(`${long}b`, "B", 60_000);
      await cache.set("short", "S", 60_000);
      expect(await cache.get(`${long}a`)).toBe("A");
      expect(await cache.get(`${long}b`)).toBe("B");
      expect(await cache.get("short")).toBe("S");
      expect(await cache.get(`${long}c`)).toBeUndefined();
    });

    test("keys may hold any characters", async () => {
      const cache = await open();
      const key = 'q:1:["logs",["last",86400000],["ERROR"],["a b","ü:*?"]]';
      await cache.set(key, "v", 60_000);
      expect(await cache.get(key)).toBe("v");
      expect(await cache.get(key.replace("ü", "u"))).toBeUndefined();
    });

    test("a large value round-trips", async () => {
      const cache = await open();
      const value = "x".repeat(1024 * 1024);
      await cache.set("big", value, 60_000);
      expect((await cache.get("big"))?.length).toBe(value.length);
    });

    test("an entry expires after its time to live", async () => {
      const cache = await open();
      await cache.set("short-lived", "v", 50);
      await cache.set("long-lived", "v", 60_000);
      expect(await eventually(async () => (await cache.get("short-lived")) === undefined, 3000)).toBe(true);
      expect(await cache.get("long-lived")).toBe("v");
    });

    test("a time to live of zero stores nothing", async () => {
      const cache = await open();
      await cache.set("zero", "v", 0);
      expect(await cache.get("zero")).toBeUndefined();
    });

    test("many concurrent operations all complete", async () => {
      const cache = await open();
      await Promise.all(Array.from({ length: 200 }, (_, i) => cache.set(`c${i}`, String(i), 60_000)));
      const got = await Promise.all(Array.from({ length: 200 }, (_, i) => cache.get(`c${i}`)));
      expect(got).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    });

    test(`peek answers only what get would${opts.inProcess ? ", and finds what this process set" : ""}`, async () => {
      const cache = await open();
      const value = JSON.stringify({ message: "ünïcödé ✓ 日本語 😀" });
      expect(cache.peek("absent")).toBeUndefined();
      await cache.set("k", value, 60_000);
      const first = await text(cache.peek("k"));
      if (opts.inProcess) expect(first).toBe(value);
      else expect(first === undefined || first === value).toBe(true);
      await cache.set("k", "replaced", 60_000);
      const second = await text(cache.peek("k"));
      if (opts.inProcess) expect(second).toBe("replaced");
      else expect(second === undefined || second === "replaced").toBe(true);
      expect(await cache.get("k")).toBe("replaced");
      await cache.set("zero", "v", 0);
      expect(cache.peek("zero")).toBeUndefined();
    });

    test("peek never answers past the time to live", async () => {
      const cache = await open();
      await cache.set("short-lived", "v", 50);
      if (opts.inProcess) expect(await text(cache.peek("short-lived"))).toBe("v");
      expect(await eventually(async () => cache.peek("short-lived") === undefined, 3000)).toBe(true);
      expect(await eventually(async () => (await cache.get("short-lived")) === undefined, 3000)).toBe(true);
      expect(cache.peek("short-lived")).toBeUndefined();
    });

    test("reports healthy while usable", async () => {
      const cache = await open();
      expect((await cache.health()).ok).toBe(true);
    });

    test("stop() then a fresh instance starts clean and stops twice without error", async () => {
      const f = await make();
      await f.cache.start();
      await f.cache.stop();
      await f.cleanup();
    });
  });
};
