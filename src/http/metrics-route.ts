// Health and Prometheus routes shared by the roles.

import type { Hono, MiddlewareHandler } from "hono";
import type { Metrics } from "../observability/metrics.ts";

export interface MetricsExposure {
  metrics: Metrics | undefined;
  enabled: boolean;
  /** Applied before the metrics routes when metrics need an API key. */
  guard?: MiddlewareHandler;
}

export const mountMetrics = (app: Hono, paths: string[], exposure: MetricsExposure): void => {
  const { metrics } = exposure;
  if (!exposure.enabled || !metrics) return;
  const handler: MiddlewareHandler = async (c) => {
    c.header("Content-Type", metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  };
  for (const path of paths) {
    if (exposure.guard) app.get(path, exposure.guard, handler);
    else app.get(path, handler);
  }
};
