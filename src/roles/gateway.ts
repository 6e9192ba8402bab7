// Gateway role: the query API over the store, cached aside (the cache is chosen in adapters.ts).

import type { Config } from "../config/load.ts";
import { createGatewayApp } from "../http/gateway-app.ts";
import { createRateLimiter } from "../http/rate-limit.ts";
import { createTailSlots } from "../http/tail-slots.ts";
import { mountUi } from "../http/ui.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { QueryCache } from "../ports/query-cache.ts";
import { createQueryService } from "../services/query.ts";
import { createTailHub } from "../services/tail-hub.ts";
import { requestAddress } from "./remote.ts";
import { type Served, serve } from "./serve.ts";

export interface GatewayParts {
  reader: LogReader;
  cache: QueryCache;
  metrics: Metrics | undefined;
  logger: Logger;
}

export interface GatewayOptions {
  /** How long the store's watermark is reused (default 250 ms). */
  watermarkReuseMs?: number;
  tailPollMs?: number;
  /** Pause between two pages of a live tail that is catching up (default 50 ms). */
  tailPauseMs?: number;
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
    statsMaxSources: config.query.statsMaxSources,
    ...(opts.watermarkReuseMs !== undefined ? { watermarkReuseMs: opts.watermarkReuseMs } : {}),
    observer: {
      cache: (result) => cacheResults[result]?.inc(),
      storeError: (error) => logger.error("log store read failed", { error }),
    },
  });
  const hub = createTailHub({
    reader,
    watermark: () => query.watermark(),
    ...(opts.tailPollMs ? { pollMs: opts.tailPollMs } : {}),
    ...(opts.tailPauseMs !== undefined ? { pauseMs: opts.tailPauseMs } : {}),
    onPollers: (n) => metrics?.tailPollers.set(n),
  });
  opts.closing?.addEventListener("abort", () => hub.close(), { once: true });
  const slots = createTailSlots(
    { total: config.query.maxTailStreams, perClient: config.query.maxTailStreamsPerClient },
    (scope) => metrics?.rateLimited.inc({ scope }),
  );
  const rateLimit = createRateLimiter(config.query.rateLimit, metrics);
  return createGatewayApp({
    query,
    tails: { hub, slots },
    ...(rateLimit ? { rateLimit } : {}),
    remoteAddress: requestAddress,
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
