// Child process of transport-config.test.ts: a RedisCache over TLS to 127.0.0.1:$REDIS_PORT, printing its health.

import { RedisCache } from "../../src/adapters/cache/redis.ts";
import { loadConfig } from "../../src/config/load.ts";

const cfg = loadConfig({
  REDIS_HOST: "127.0.0.1",
  REDIS_PORT: process.env.REDIS_PORT ?? "0",
  REDIS_TLS: "true",
  REDIS_PASSWORD: "redis-pw-tls",
}).redis;
if (!cfg) throw new Error("no redis config");
const cache = new RedisCache(cfg, { connectTimeoutMs: 2000, commandTimeoutMs: 1000 });
await cache.start();
process.stdout.write(`${JSON.stringify(await cache.health())}\n`);
await cache.stop();
process.exit(0);
