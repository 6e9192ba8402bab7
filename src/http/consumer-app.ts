// The consumer's HTTP surface: health with the state of the bus and the store, and metrics.

import { Hono } from "hono";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Health } from "../ports/log-bus.ts";
import { notFound, onError } from "./errors.ts";
import { type MetricsExposure, mountMetrics } from "./metrics-route.ts";
import { countRequests, requestId, statusCounter } from "./middleware.ts";

export interface ConsumerAppDeps {
  health: () => Promise<{ ok: boolean; components: Record<string, Health> }>;
  logger: Logger;
  metrics?: Metrics;
  metricsExposure: Omit<MetricsExposure, "metrics">;
}

export const createConsumerApp = (deps: ConsumerAppDeps): Hono => {
  const app = new Hono();
  app.use("*", requestId(), countRequests(statusCounter(deps.metrics, "consumer")));
  app.onError(onError(deps.logger));
  app.notFound(notFound);
  app.get("/actuator/health", async (c) => {
    const h = await deps.health();
    return c.json(
      {
        status: h.ok ? "UP" : "DOWN",
        components: Object.fromEntries(
          Object.entries(h.components).map(([k, v]) => [
            k,
            { status: v.ok ? "UP" : "DOWN", ...(v.detail ? { detail: v.detail } : {}) },
          ]),
        ),
      },
      h.ok ? 200 : 503,
    );
  });
  mountMetrics(app, ["/actuator/prometheus", "/metrics"], { ...deps.metricsExposure, metrics: deps.metrics });
  return app;
};
