// The gateway's HTTP API: query, search, stats, by id, live tail, health, metrics.

import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Params } from "../domain/query-params.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Health } from "../ports/log-bus.ts";
import type { QueryService } from "../services/query.ts";
import type { TailHub } from "../services/tail-hub.ts";
import { createCors } from "./cors.ts";
import { notFound, onError } from "./errors.ts";
import { type MetricsExposure, mountMetrics } from "./metrics-route.ts";
import {
  apiKeyAuth,
  clientOf,
  countRequests,
  keyAccepted,
  requestId,
  requestIdOf,
  statusCounter,
} from "./middleware.ts";
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
const JSON_TYPE = "application/json; charset=UTF-8";
const JSON_HEADERS = { "Content-Type": JSON_TYPE } as const;
/** Parameters that take a comma-separated list; repeating the parameter adds to the list too. */
const LISTS = new Set(["level", "source"]);

/** The query string exactly as sent (the memo key of its parse). */
const rawQuery = (url: string): string => {
  const at = url.indexOf("?");
  if (at < 0) return "";
  const hash = url.indexOf("#", at);
  return hash < 0 ? url.slice(at + 1) : url.slice(at + 1, hash);
};

/** The path of an absolute URL as sent (not decoded), without its query or fragment. */
const rawPath = (url: string): string => {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (start < 0) return "/";
  let end = url.indexOf("?", start);
  if (end < 0) end = url.indexOf("#", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
};

/** The listings whose cached answers the hot path serves, by path. */
const HOT = new Map<string, "logs" | "search">([
  [`${BASE}/logs`, "logs"],
  [`${BASE}/search`, "search"],
]);

const paramsOf = (c: Context): Params => {
  // Keyed by whatever names the client sends: no prototype, so "__proto__" or "constructor" is just a name.
  const out: Params = Object.create(null);
  for (const [name, values] of Object.entries(c.req.queries()))
    out[name] = LISTS.has(name) ? values.join(",") : values[0];
  return out;
};

export const createGatewayApp = (deps: GatewayAppDeps): Hono => {
  const app = new Hono();
  const countStatus = statusCounter(deps.metrics, "gateway");
  app.use("*", requestId(), countRequests(countStatus));
  app.onError(onError(deps.logger));
  app.notFound(notFound);
  // Before every query route (and its key check): a preflight carries no key.
  const cors = createCors(deps.corsOrigins ?? ["*"]);
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
  const address = deps.remoteAddress ?? (() => "local");
  // The client (key, else address) keys the rate limit and the tail slots; health and metrics need neither.
  const auth = apiKeyAuth(deps.apiKeys, (c) => address(c.req.raw, c.env));
  const limiter = deps.rateLimit;
  const limit: MiddlewareHandler = limiter ? rateLimitGuard(limiter) : (_c, next) => next();
  const metricsAuth = apiKeyAuth(deps.apiKeys);
  const { requireKey, ...exposure } = deps.metricsExposure;
  mountMetrics(app, ["/gateway/actuator/prometheus", "/metrics"], {
    ...exposure,
    metrics: deps.metrics,
    ...(requireKey ? { guard: metricsAuth } : {}),
  });

  // Label children bound once: no request does label hashing.
  const counted = (endpoint: string) => ({
    count: deps.metrics?.queries.labels({ endpoint }),
    duration: deps.metrics?.queryDuration.labels({ endpoint }),
  });
  const answer = (endpoint: string, run: (c: Context) => Promise<string>): MiddlewareHandler => {
    const { count, duration } = counted(endpoint);
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
    `${BASE}/logs`,
    auth,
    limit,
    answer("logs", (c) => deps.query.logs(() => paramsOf(c), rawQuery(c.req.url))),
  );
  app.get(
    `${BASE}/logs/:id`,
    auth,
    limit,
    answer("by_id", (c) => deps.query.byId(c.req.param("id") ?? "")),
  );
  app.get(
    `${BASE}/search`,
    auth,
    limit,
    answer("search", (c) => deps.query.search(() => paramsOf(c), rawQuery(c.req.url))),
  );
  app.get(
    `${BASE}/stats`,
    auth,
    limit,
    answer("stats", (c) => deps.query.stats(paramsOf(c))),
  );
  app.get(
    `${BASE}/tail`,
    auth,
    limit,
    tailHandler({
      ...deps.tails,
      params: paramsOf,
      logger: deps.logger,
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.closing ? { closing: deps.closing } : {}),
    }),
  );
  deps.extend?.(app);

  /**
   * A repeated listing whose answer this process holds is served before routing: the same bytes, headers
   * (CORS from the same cors.headers()), key check, rate limit and metrics as the route above, without its
   * middleware chain. Anything else (a miss, a stale watermark, a refused key, a client out of tokens,
   * another path or method) goes through the app as before: the route's own guards then answer the refusal
   * (401, 429) in the one place that does.
   */
  const hotMetrics = { logs: counted("logs"), search: counted("search") };
  const hot = (request: Request, env: unknown): Response | undefined => {
    if (request.method !== "GET") return undefined;
    const url = request.url;
    const endpoint = HOT.get(rawPath(url));
    if (endpoint === undefined) return undefined;
    const started = performance.now();
    const headers = request.headers;
    if (!keyAccepted(headers, deps.apiKeys)) return undefined;
    // Out of tokens: the route asks again, counts the refusal and answers 429. A token is spent only once
    // the answer is at hand, so a request passed on to the route never pays twice.
    const client = limiter ? clientOf(headers, deps.apiKeys, () => address(request, env)) : "";
    if (limiter && !limiter.allows(client)) return undefined;
    const body = deps.query.hot(endpoint, rawQuery(url));
    if (body === undefined) return undefined;
    limiter?.take(client);
    const m = hotMetrics[endpoint];
    m.count?.inc();
    countStatus(200);
    const response = new Response(body, {
      headers: {
        "Content-Type": JSON_TYPE,
        "X-Request-Id": requestIdOf(headers.get("x-request-id")),
        ...cors.headers(headers.get("origin")),
      },
    });
    m.duration?.observe((performance.now() - started) / 1000);
    return response;
  };
  const routed = app.fetch;
  app.fetch = (request, env, ...rest) => hot(request, env) ?? routed(request, env, ...rest);
  return app;
};
