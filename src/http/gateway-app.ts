// The gateway's HTTP API: query, search, stats, by id, live tail, health, metrics.

import { Hono, type MiddlewareHandler } from "hono";
import type { Health } from "../ports/log-bus.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { QueryService } from "../services/query.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import { notFound, onError } from "./errors.ts";
import { type MetricsExposure, mountMetrics } from "./metrics-route.ts";
import { apiKeyAuth, countRequests, requestId } from "./middleware.ts";
import { tailHandler } from "./tail.ts";

export interface GatewayAppDeps {
  query: QueryService;
  reader: LogReader;
  health: () => Promise<{ ok: boolean; components: Record<string, Health> }>;
  apiKeys: readonly string[];
  logger: Logger;
  metrics?: Metrics;
  metricsExposure: Omit<MetricsExposure, "metrics">;
  tailPollMs?: number;
  /** Mounts extra routes (the browser UI) before the 404 handler. */
  extend?: (app: Hono) => void;
  remoteAddress?: (c: Parameters<MiddlewareHandler>[0]) => string;
}

const BASE = "/gateway/api/query";

export const createGatewayApp = (deps: GatewayAppDeps): Hono => {
  const app = new Hono();
  const remote = deps.remoteAddress ?? (() => "local");
  app.use("*", requestId(), countRequests(deps.metrics, "gateway"));
  app.onError(onError(deps.logger));
  app.notFound(notFound);

  const health: MiddlewareHandler = async (c) => {
    const h = await deps.health();
    return c.json(
      {
        status: h.ok ? "UP" : "DOWN",
        service: "log-gateway",
        timestamp: new Date().toISOString(),
        components: Object.fromEntries(
          Object.entries(h.components).map(([k, v]) => [k, { status: v.ok ? "UP" : "DOWN", ...(v.detail ? { detail: v.detail } : {}) }]),
        ),
      },
      h.ok ? 200 : 503,
    );
  };
  app.get(`${BASE}/health`, health);
  app.get("/gateway/actuator/health", health);
  const auth = apiKeyAuth(deps.apiKeys, remote);
  mountMetrics(app, ["/gateway/actuator/prometheus", "/metrics"], { ...deps.metricsExposure, metrics: deps.metrics });

  const answer = (endpoint: string, run: (c: Parameters<MiddlewareHandler>[0]) => Promise<string>): MiddlewareHandler =>
    async (c) => {
      const end = deps.metrics?.queryDuration.startTimer({ endpoint });
      try {
        const body = await run(c);
        deps.metrics?.queries.inc({ endpoint });
        c.header("Content-Type", "application/json; charset=UTF-8");
        return c.body(body);
      } finally {
        end?.();
      }
    };

  app.get(`${BASE}/logs`, auth, answer("logs", (c) => deps.query.logs(c.req.query())));
  app.get(`${BASE}/logs/:id`, auth, answer("by_id", (c) => deps.query.byId(c.req.param("id") ?? "")));
  app.get(`${BASE}/search`, auth, answer("search", (c) => deps.query.search(c.req.query())));
  app.get(`${BASE}/stats`, auth, answer("stats", (c) => deps.query.stats(c.req.query())));
  app.get(
    `${BASE}/tail`,
    auth,
    tailHandler({ reader: deps.reader, ...(deps.metrics ? { metrics: deps.metrics } : {}), ...(deps.tailPollMs ? { pollMs: deps.tailPollMs } : {}) }),
  );
  deps.extend?.(app);
  return app;
};
