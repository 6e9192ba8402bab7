// The producer's HTTP API: the paths and response shapes of the design we replace.

import { type Context, Hono, type MiddlewareHandler } from "hono";
import { DomainError } from "../domain/errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Health } from "../ports/log-bus.ts";
import type { Ingest } from "../services/ingest.ts";
import { jsonArrayItems, ndjsonItems } from "./batch-items.ts";
import { answerBeforeRouting, type EarlyHandler } from "./before-routing.ts";
import { bodyKind, parseJsonBody, readBody, readBodyText } from "./body.ts";
import { notFound, onError } from "./errors.ts";
import { mountElasticsearch } from "./ingest/elasticsearch.ts";
import { mountLoki } from "./ingest/loki.ts";
import { mountOtlp } from "./ingest/otlp.ts";
import type { ProtocolDeps } from "./ingest/protocol.ts";
import type { ShipperRouteDeps } from "./ingest/shipper-deps.ts";
import { mountSplunk } from "./ingest/splunk.ts";
import { type MetricsExposure, mountMetrics } from "./metrics-route.ts";
import { apiKeyAuth, countRequests, requestId, statusCounter } from "./middleware.ts";
import { type RateLimiter, rateLimitGuard } from "./rate-limit.ts";
import { createSingleRoute } from "./single-route.ts";

export interface ProducerAppDeps {
  ingest: Ingest;
  health: () => Promise<Health>;
  apiKeys: readonly string[];
  maxBodyBytes: number;
  /** Most bytes of JSON text in one event: the single-event routes' body limit, and each batch item's. */
  maxEventBytes: number;
  maxBatchEvents: number;
  logger: Logger;
  metrics?: Metrics;
  metricsExposure: Omit<MetricsExposure, "metrics">;
  /** RATE_LIMIT_* on the ingest routes, after authentication. */
  rateLimit?: RateLimiter;
  /** The peer address of a request (what the rate limits count when no API key identifies the client). */
  remoteAddress?: (request: Request, env: unknown) => string;
  /** The Elasticsearch version the _bulk handshake reports (ELASTICSEARCH_COMPAT_VERSION). */
  elasticsearchVersion?: string;
}

const BASE = "/producer/api/logs";

const SINGLE = {
  ingest: { path: `${BASE}/ingest`, status: 200, message: "Log event accepted for processing" },
  ingest_async: { path: `${BASE}/ingest/async`, status: 202, message: "Log event queued for processing" },
} as const;

export const createProducerApp = (deps: ProducerAppDeps): Hono => {
  const app = new Hono();
  const address = deps.remoteAddress ?? (() => "local");
  const remote = (c: Context) => address(c.req.raw, c.env);
  const countStatus = statusCounter(deps.metrics, "producer");
  const limiter = deps.rateLimit;

  const readOne = async (req: Request): Promise<unknown> => {
    if (bodyKind(req.headers.get("content-type") ?? undefined) !== "json")
      throw new DomainError("unsupported_media_type", "a single event must be sent as application/json");
    const limit =
      deps.maxEventBytes < deps.maxBodyBytes
        ? { bytes: deps.maxEventBytes, setting: "MAX_EVENT_BYTES" }
        : { bytes: deps.maxBodyBytes, setting: "MAX_BODY_BYTES" };
    return parseJsonBody(await readBodyText(req, limit, "an event"));
  };

  // The single-event routes answer with their own headers and counts (single-route.ts), so they come before
  // the app's middleware; a POST of the exact path is handed to them before routing (the end of this function).
  const singles = new Map<string, EarlyHandler>();
  for (const [endpoint, { path, status, message }] of Object.entries(SINGLE)) {
    const route = createSingleRoute({
      accept:
        endpoint === "ingest"
          ? async (request) => deps.ingest.one(await readOne(request))
          : async (request) => deps.ingest.oneAsync(await readOne(request)),
      apiKeys: deps.apiKeys,
      ...(limiter ? { rateLimit: limiter } : {}),
      address,
      countStatus,
      ...(deps.metrics ? { duration: deps.metrics.ingestionDuration.labels({ endpoint }) } : {}),
      status,
      message,
      logger: deps.logger,
    });
    singles.set(path, route.beforeRouting);
    app.post(path, route.route);
  }

  app.use("*", requestId(), countRequests(countStatus));
  app.onError(onError(deps.logger));
  app.notFound(notFound);

  const health = async (c: Parameters<MiddlewareHandler>[0]) => {
    const h = await deps.health();
    const body = {
      status: h.ok ? "healthy" : "unhealthy",
      service: "log-producer",
      timestamp: new Date().toISOString(),
      ...(h.ok ? {} : { reason: h.detail ?? "the log bus is unreachable" }),
    };
    return c.json(body, h.ok ? 200 : 503);
  };
  app.get(`${BASE}/health`, health);
  app.get("/producer/actuator/health", health);
  mountMetrics(app, ["/producer/actuator/prometheus", "/metrics"], {
    ...deps.metricsExposure,
    metrics: deps.metrics,
  });

  const timed =
    (endpoint: string): MiddlewareHandler =>
    async (_c, next) => {
      const end = deps.metrics?.ingestionDuration.startTimer({ endpoint });
      await next();
      end?.();
    };
  // Only the rate limits need the client's address, and looking it up costs every request.
  const guards = [
    apiKeyAuth(deps.apiKeys, limiter ? remote : undefined),
    ...(limiter ? [rateLimitGuard(limiter)] : []),
  ];

  app.post(`${BASE}/batch`, timed("batch"), ...guards, async (c) => {
    const kind = bodyKind(c.req.header("content-type"));
    const body = await readBody(c.req.raw, deps.maxBodyBytes);
    const limits = { maxEvents: deps.maxBatchEvents, maxEventBytes: deps.maxEventBytes };
    const items = kind === "ndjson" ? await ndjsonItems(body, limits) : await jsonArrayItems(body, limits);
    const outcome = await deps.ingest.batch(items);
    return c.json({
      status: "completed",
      totalEvents: outcome.totalEvents,
      successCount: outcome.successCount,
      failureCount: outcome.failureCount,
      errors: outcome.errors,
      logIds: outcome.ids,
    });
  });

  const shippers: ShipperRouteDeps = {
    ingest: deps.ingest,
    guards,
    timed,
    maxBodyBytes: deps.maxBodyBytes,
    onDropped: (protocol, n) => deps.metrics?.attributesDropped.inc({ protocol }, n),
  };
  mountOtlp(app, shippers);
  mountLoki(app, shippers);
  // Shipper protocols at the root of the port, where shippers look for them; same ingest, guards and metrics.
  const protocols: ProtocolDeps = {
    ingest: deps.ingest,
    maxBodyBytes: deps.maxBodyBytes,
    guards,
    timed,
    health: deps.health,
    elasticsearchVersion: deps.elasticsearchVersion ?? "8.17.0",
  };
  mountElasticsearch(app, protocols);
  mountSplunk(app, protocols);

  // Before routing: a POST of a single-event route's exact path goes straight to its handler.
  answerBeforeRouting(app, "POST", singles);
  return app;
};
