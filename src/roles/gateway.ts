// Gateway role: the query API over the store, cached aside (Redis behind an in-process L1, or in memory).

import { breakerGaugeValue, GuardedCache } from "../adapters/cache/guarded.ts";
import { LayeredCache } from "../adapters/cache/layered.ts";
import { MemoryCache } from "../adapters/cache/memory.ts";
import { RedisCache } from "../adapters/cache/redis.ts";
import type { Config } from "../config/load.ts";
import { createGatewayApp } from "../http/gateway-app.ts";
import { mountUi } from "../http/ui.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { QueryCache } from "../ports/query-cache.ts";
import { createQueryService } from "../services/query.ts";
import { type Served, serve } from "./serve.ts";

export interface GatewayParts {
  reader: LogReader;
  cache: QueryCache;
  metrics: Metrics | undefined;
  logger: Logger;
}

export interface CacheTuning {
  /** Redis key namespace (tests isolate themselves with it). */
  keyPrefix?: string;
  /** Per-command deadline for Redis; past it the query is answered from the store. */
  timeoutMs?: number;
}

/**
 * Redis when REDIS_URL/REDIS_HOST is set: guarded by a timeout and a circuit breaker (a slow or dead Redis
 * is bypassed, never a 5xx), behind a small in-process L1 whose entries live at most the live bound.
 * Otherwise the embedded in-memory cache. Nothing connects until start().
 */
export const createCache = (
  config: Config,
  metrics: Metrics | undefined,
  logger: Logger,
  tuning: CacheTuning = {},
): QueryCache => {
  if (!config.redis) return new MemoryCache();
  const timeoutMs = tuning.timeoutMs ?? 250;
  const redis = new RedisCache(config.redis, {
    ...(tuning.keyPrefix ? { keyPrefix: tuning.keyPrefix } : {}),
    commandTimeoutMs: timeoutMs,
    logger,
  });
  metrics?.breakerState.set({ name: "redis" }, 0);
  const guarded = new GuardedCache(redis, {
    timeoutMs: timeoutMs + 50,
    onStateChange: (state) => {
      metrics?.breakerState.set({ name: "redis" }, breakerGaugeValue(state));
      if (state === "open") logger.warn("redis circuit open: queries bypass the cache");
      else if (state === "closed") logger.info("redis circuit closed: cache in use again");
    },
  });
  // An L1 copy lives as long as its writer allowed (keys carry the watermark: an entry never changes).
  return new LayeredCache(guarded, { l1TtlMs: config.query.cacheTtlMs, maxEntries: 1000 });
};

export interface GatewayOptions {
  /** How long the store's watermark is reused (default 250 ms). */
  watermarkReuseMs?: number;
  tailPollMs?: number;
  /** Aborted at shutdown: ends the live tails. */
  closing?: AbortSignal;
}

export const buildGatewayApp = (config: Config, parts: GatewayParts, opts: GatewayOptions = {}) => {
  const { reader, cache, metrics, logger } = parts;
  const cacheResults = {
    hit: metrics?.cacheRequests.labels({ result: "hit" }),
    miss: metrics?.cacheRequests.labels({ result: "miss" }),
    bypass: metrics?.cacheRequests.labels({ result: "bypass" }),
  };
  const query = createQueryService({
    reader,
    cache,
    cacheTtlMs: config.query.cacheTtlMs,
    liveTtlMs: config.query.liveTtlMs,
    ...(opts.watermarkReuseMs !== undefined ? { watermarkReuseMs: opts.watermarkReuseMs } : {}),
    observer: {
      cache: (result) => cacheResults[result]?.inc(),
      storeError: (error) => logger.error("log store read failed", { error }),
    },
  });
  return createGatewayApp({
    query,
    reader,
    health: async () => {
      const [store, c] = await Promise.all([reader.health(), cache.health()]);
      // The cache is optional: when it is down the gateway still answers from the store.
      return { ok: store.ok, components: { store, cache: c } };
    },
    apiKeys: config.query.apiKeys,
    corsOrigins: config.query.corsOrigins,
    logger,
    ...(metrics ? { metrics } : {}),
    metricsExposure: { enabled: config.metrics.enabled, requireKey: config.metrics.requireKey },
    ...(opts.tailPollMs ? { tailPollMs: opts.tailPollMs } : {}),
    ...(opts.closing ? { closing: opts.closing } : {}),
    extend: mountUi,
  });
};

export const startGateway = async (config: Config, parts: GatewayParts): Promise<Served> => {
  await parts.reader.start();
  await parts.cache.start();
  const closing = new AbortController();
  const served = serve(buildGatewayApp(config, parts, { closing: closing.signal }), {
    host: config.host,
    port: config.ports.gateway,
    logger: parts.logger,
    name: "gateway",
  });
  return {
    port: served.port,
    stop: async () => {
      closing.abort();
      await served.stop();
      await parts.cache.stop();
      await parts.reader.stop();
    },
  };
};
