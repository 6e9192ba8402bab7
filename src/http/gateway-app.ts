// The gateway's HTTP API: query, search, stats, by id, live tail, health, metrics.

import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Health } from "../ports/log-bus.ts";
import type { QueryService } from "../services/query.ts";
import type { TailHub } from "../services/tail-hub.ts";
import { answerBeforeRouting, type EarlyHandler } from "./before-routing.ts";
import { createCors } from "./cors.ts";
import { notFound, onError } from "./errors.ts";
import { createListingHandler, type ListingEndpoint } from "./listing-route.ts";
import { type MetricsExposure, mountMetrics } from "./metrics-route.ts";
import { apiKeyAuth, countRequests, requestId, statusCounter } from "./middleware.ts";
import { paramsOf } from "./query-string.ts";
import { type RateLimiter, rateLimitGuard } from "./rate-limit.ts";
import { tailHandler } from "./tail.ts";
import type { TailSlots } from "./tail-slots.ts";

export interface GatewayAppDeps {
  query: QueryService;
  /** The shared pollers of the live tails and the bound on open streams. */
  tails: { hub: TailHub; slots: TailSlots };
  /** RATE_LIMIT_*: applied to every query route and to the hot path, keyed like the producer's. */
  rateLimit?: RateLimiter;
  /** The peer address of a request (the client of a request without an API key). */
  remoteAddress?: (request: Request, env: unknown) => string;
  health: () => Promise<{ ok: boolean; components: Record<string, Health> }>;
  apiKeys: readonly string[];
  logger: Logger;
  metrics?: Metrics;
  /** With requireKey, the metrics routes take the same API keys as the queries. */
  metricsExposure: Omit<MetricsExposure, "metrics" | "guard"> & { requireKey?: boolean };
  /** Aborted at shutdown: ends the live tails. */
  closing?: AbortSignal;
  /** CORS_ORIGINS: `*` (any), a list of origins, or empty (no cross-origin browser callers). */
  corsOrigins?: readonly string[];
  /** Mounts extra routes (the browser UI) before the 404 handler. */
  extend?: (app: Hono) => void;
}

export const BASE = "/gateway/api/query";
/** Shared by every answer: Hono copies it into the response, so one object serves all. */
const JSON_HEADERS = { "Content-Type": "application/json; charset=UTF-8" } as const;
const LISTINGS: readonly ListingEndpoint[] = ["logs", "search"];

const queryParams = (c: Context) => paramsOf(c.req.url);

export const createGatewayApp = (deps: GatewayAppDeps): Hono => {
  const app = new Hono();
  const countStatus = statusCounter(deps.metrics, "gateway");
  const cors = createCors(deps.corsOrigins ?? ["*"]);
  const address = deps.remoteAddress ?? (() => "local");
  const limiter = deps.rateLimit;

  // The listings answer with their own headers and counts (listing-route.ts), so they come before the
  // app's middleware: a matched handler that answers ends the chain. HEAD and percent-encoded paths reach
  // them here; a GET of the exact path is handed to them before routing (the end of this function).
  const listings = new Map<string, EarlyHandler>();
  for (const endpoint of LISTINGS) {
    const handler = createListingHandler(
      {
        query: deps.query,
        apiKeys: deps.apiKeys,
        ...(limiter ? { rateLimit: limiter } : {}),
        address,
        cors,
        countStatus,
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
        logger: deps.logger,
      },
      endpoint,
    );
    listings.set(`${BASE}/${endpoint}`, handler.beforeRouting);
    app.get(`${BASE}/${endpoint}`, handler.route);
  }

  app.use("*", requestId(), countRequests(countStatus));
  app.onError(onError(deps.logger));
  app.notFound(notFound);
  // Before every query route (and its key check): a preflight carries no key.
  app.use(`${BASE}/*`, cors.middleware);

  // The replaced design's shape, which its clients check: status healthy|unhealthy, service api-gateway.
  const health: MiddlewareHandler = async (c) => {
    const h = await deps.health();
    const entries = Object.entries(h.components);
    const down = entries.filter(([, v]) => !v.ok);
    return c.json(
      {
        status: h.ok ? "healthy" : "unhealthy",
        service: "api-gateway",
        timestamp: new Date().toISOString(),
        ...(h.ok ? {} : { reason: down.map(([k, v]) => `${k}: ${v.detail ?? "unreachable"}`).join("; ") }),
        components: Object.fromEntries(
          entries.map(([k, v]) => [
            k,
            { status: v.ok ? "healthy" : "unhealthy", ...(v.detail ? { detail: v.detail } : {}) },
          ]),
        ),
      },
      h.ok ? 200 : 503,
    );
  };
  app.get(`${BASE}/health`, health);
  app.get("/gateway/actuator/health", health);
  // The client (key, else address) keys the rate limit and the tail slots; health and metrics need neither.
  const auth = apiKeyAuth(deps.apiKeys, (c) => address(c.req.raw, c.env));
  const limit: MiddlewareHandler = limiter ? rateLimitGuard(limiter) : (_c, next) => next();
  const metricsAuth = apiKeyAuth(deps.apiKeys);
  const { requireKey, ...exposure } = deps.metricsExposure;
  mountMetrics(app, ["/gateway/actuator/prometheus", "/metrics"], {
    ...exposure,
    metrics: deps.metrics,
    ...(requireKey ? { guard: metricsAuth } : {}),
  });

  const answer = (endpoint: string, run: (c: Context) => Promise<string>): MiddlewareHandler => {
    // Label children bound once: no request does label hashing.
    const count = deps.metrics?.queries.labels({ endpoint });
    const duration = deps.metrics?.queryDuration.labels({ endpoint });
    return async (c) => {
      const started = performance.now();
      try {
        const body = await run(c);
        count?.inc();
        return c.body(body, 200, JSON_HEADERS);
      } finally {
        duration?.observe((performance.now() - started) / 1000);
      }
    };
  };

  app.get(
    `${BASE}/logs/:id`,
    auth,
    limit,
    answer("by_id", (c) => deps.query.byId(c.req.param("id") ?? "")),
  );
  app.get(
    `${BASE}/stats`,
    auth,
    limit,
    answer("stats", (c) => deps.query.stats(queryParams(c))),
  );
  app.get(
    `${BASE}/tail`,
    auth,
    limit,
    tailHandler({
      ...deps.tails,
      params: queryParams,
      logger: deps.logger,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.closing ? { closing: deps.closing } : {}),
    }),
  );
  deps.extend?.(app);

  // Before routing: a GET of a listing's exact path goes straight to its handler. Measured in-process, the
  // router and the middleware chain nearly doubled the CPU of a cached answer.
  answerBeforeRouting(app, "GET", listings);
  return app;
};
