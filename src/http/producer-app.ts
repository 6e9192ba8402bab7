// The producer's HTTP API: the paths and response shapes of the design we replace.

import { Hono, type MiddlewareHandler } from "hono";
import { DomainError } from "../domain/errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Health } from "../ports/log-bus.ts";
import type { Ingest } from "../services/ingest.ts";
import { jsonArrayItems, ndjsonItems } from "./batch-items.ts";
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
  /** Extra guards on the ingest routes (rate limiting), after authentication. */
  guards?: MiddlewareHandler[];
  remoteAddress?: (c: Parameters<MiddlewareHandler>[0]) => string;
  /** The Elasticsearch version the _bulk handshake reports (ELASTICSEARCH_COMPAT_VERSION). */
  elasticsearchVersion?: string;
}

const BASE = "/producer/api/logs";

export const createProducerApp = (deps: ProducerAppDeps): Hono => {
  const app = new Hono();
  const remote = deps.remoteAddress ?? (() => "local");
  app.use("*", requestId(), countRequests(statusCounter(deps.metrics, "producer")));
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
  const limits = deps.guards ?? [];
  const guards = [apiKeyAuth(deps.apiKeys, limits.length > 0 ? remote : undefined), ...limits];

  const readOne = async (req: Request): Promise<unknown> => {
    if (bodyKind(req.headers.get("content-type") ?? undefined) !== "json")
      throw new DomainError("unsupported_media_type", "a single event must be sent as application/json");
    const limit =
      deps.maxEventBytes < deps.maxBodyBytes
        ? { bytes: deps.maxEventBytes, setting: "MAX_EVENT_BYTES" }
        : { bytes: deps.maxBodyBytes, setting: "MAX_BODY_BYTES" };
    return parseJsonBody(await readBodyText(req, limit, "an event"));
  };

  app.post(`${BASE}/ingest`, timed("ingest"), ...guards, async (c) => {
    const event = await deps.ingest.one(await readOne(c.req.raw));
    return c.json({ status: "accepted", logId: event.id, message: "Log event accepted for processing" });
  });

  app.post(`${BASE}/ingest/async`, timed("ingest_async"), ...guards, async (c) => {
    const event = deps.ingest.oneAsync(await readOne(c.req.raw));
    return c.json({ status: "accepted", logId: event.id, message: "Log event queued for processing" }, 202);
  });

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

  return app;
};
