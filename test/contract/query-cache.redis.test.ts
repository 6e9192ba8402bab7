// Runs the QueryCache contract against Redis (scripts/services.sh), bare and as the gateway stacks it.

import { afterAll, describe, expect, test } from "bun:test";
import { Redis } from "ioredis";
import { GuardedCache } from "../../src/adapters/cache/guarded.ts";
import { LayeredCache } from "../../src/adapters/cache/layered.ts";
import { RedisCache } from "../../src/adapters/cache/redis.ts";
import type { RedisConfig } from "../../src/config/load.ts";
import { TEST_REDIS_URL, uniqueName } from "../helpers/services.ts";
import { queryCacheContract } from "./query-cache.contract.ts";

const config: RedisConfig = {
  url: TEST_REDIS_URL,
  host: "127.0.0.1",
  port: 6379,
  password: undefined,
  tls: false,
};

/** A plain client to look at what the adapter left in Redis, and to remove it. */
const admin = new Redis(TEST_REDIS_URL, { lazyConnect: true });
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length) await admin.del(...keys);
  }
  await admin.quit();
});

const redisCache = (): RedisCache => {
  const keyPrefix = `${uniqueName("qc")}:`;
  prefixes.push(keyPrefix);
  return new RedisCache(config, { keyPrefix });
};

queryCacheContract(
  "redis",
  async () => {
    const cache = redisCache();
    return { cache, cleanup: () => cache.stop() };
  },
  { inProcess: false },
);

queryCacheContract(
  "redis, guarded, behind the in-process L1",
  async () => {
    const cache = new LayeredCache(new GuardedCache(redisCache()), { l1TtlMs: 1000 });
    return { cache, cleanup: () => cache.stop() };
  },
  { inProcess: true },
);

describe("RedisCache", () => {
  test("stores entries under its prefix with the time to live given", async () => {
    const keyPrefix = `${uniqueName("qc")}:`;
    prefixes.push(keyPrefix);
    const cache = new RedisCache(config, { keyPrefix });
    await cache.start();
    try {
      await cache.set("k", "v", 30_000);
      expect(await admin.get(`${keyPrefix}k`)).toBe("v");
      const ttl = await admin.pttl(`${keyPrefix}k`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30_000);
      await cache.set("x".repeat(500), "long", 30_000);
      const hashed = await admin.keys(`${keyPrefix}h:*`);
      expect(hashed).toHaveLength(1);
    } finally {
      await cache.stop();
    }
  });

  test("reads what another instance wrote (the cache is shared between gateways)", async () => {
    const keyPrefix = `${uniqueName("qc")}:`;
    prefixes.push(keyPrefix);
    const a = new LayeredCache(new GuardedCache(new RedisCache(config, { keyPrefix })));
    const b = new LayeredCache(new GuardedCache(new RedisCache(config, { keyPrefix })));
    await a.start();
    await b.start();
    try {
      await a.set("shared", "value", 30_000);
      expect(await b.get("shared")).toBe("value");
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test("connects with host and port as well as with a URL", async () => {
    const url = new URL(TEST_REDIS_URL);
    const keyPrefix = `${uniqueName("qc")}:`;
    prefixes.push(keyPrefix);
    const cache = new RedisCache(
      { url: undefined, host: url.hostname, port: Number(url.port || 6379), password: undefined, tls: false },
      { keyPrefix },
    );
    await cache.start();
    try {
      await cache.set("k", "v", 10_000);
      expect(await cache.get("k")).toBe("v");
    } finally {
      await cache.stop();
    }
  });
});
