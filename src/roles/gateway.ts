// Gateway role: the query API over the store, cached aside.

import type { Config } from "../config/load.ts";
import { createGatewayApp } from "../http/gateway-app.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { QueryCache } from "../ports/query-cache.ts";
import { createQueryService } from "../services/query.ts";
import { remoteAddress } from "./remote.ts";
import { type Served, serve } from "./serve.ts";

export interface GatewayParts {
  reader: LogReader;
  cache: QueryCache;
  metrics: Metrics | undefined;
  logger: Logger;
}

export const buildGatewayApp = (config: Config, parts: GatewayParts) => {
  const { reader, cache, metrics, logger } = parts;
  const query = createQueryService({
    reader,
    cache,
    cacheTtlMs: config.query.cacheTtlMs,
    liveTtlMs: config.query.liveTtlMs,
    observer: { cache: (result) => metrics?.cacheRequests.inc({ result }) },
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
    logger,
    ...(metrics ? { metrics } : {}),
    metricsExposure: { enabled: config.metrics.enabled },
    remoteAddress,
  });
};

export const startGateway = async (config: Config, parts: GatewayParts): Promise<Served> => {
  await parts.reader.start();
  await parts.cache.start();
  const served = serve(buildGatewayApp(config, parts), {
    host: config.host,
    port: config.ports.gateway,
    logger: parts.logger,
    name: "gateway",
  });
  return {
    port: served.port,
    stop: async () => {
      await served.stop();
      await parts.cache.stop();
      await parts.reader.stop();
    },
  };
};
