// The listings (GET /logs, /search): one handler answers them, from this process's copy or computed by the
// query service, so both answers take the same key check, rate limit, metrics and headers.
//
// The gateway hands it a GET of a listing's exact path before routing: no router and no middleware chain,
// so a cached answer costs little more than finding it. The router reaches the same handler for the rest
// (HEAD, a percent-encoded path). It answers everything it is given, refusals and errors included, in the
// shapes that errors.ts and cors.ts give every other route's answers.

import type { Handler } from "hono";
import { getPath } from "hono/utils/url";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { QueryService } from "../services/query.ts";
import { admitOrRefuse } from "./before-routing.ts";
import type { Cors } from "./cors.ts";
import { domainErrorOf, errorAnswer } from "./errors.ts";
import { requestIdOf } from "./middleware.ts";
import { paramsOf, rawQuery } from "./query-string.ts";
import type { RateLimiter } from "./rate-limit.ts";

export type ListingEndpoint = "logs" | "search";

/** One listing's handler, in the two forms its callers need. */
export interface ListingHandler {
  /**
   * For a GET of the listing's exact path, before routing: at once when this process holds the answer,
   * else once the query service has it. `url` is request.url, which the caller has read already.
   */
  beforeRouting(request: Request, env: unknown, url: string): Response | Promise<Response>;
  /** The route, for whatever else the router sends it (a HEAD is never answered from the copy). */
  route: Handler;
}

export interface ListingDeps {
  query: Pick<QueryService, ListingEndpoint | "hot">;
  apiKeys: readonly string[];
  /** RATE_LIMIT_*: one token per answered request, as on every query route. */
  rateLimit?: RateLimiter;
  /** The peer address of a request (the client of a request without an API key). */
  address: (request: Request, env: unknown) => string;
  cors: Cors;
  /** The role's http_requests_total, by status. */
  countStatus: (status: number) => void;
  metrics?: Metrics;
  logger: Logger;
}

const JSON_TYPE = "application/json; charset=UTF-8";

export const createListingHandler = (deps: ListingDeps, endpoint: ListingEndpoint): ListingHandler => {
  const { apiKeys, rateLimit: limiter, cors, countStatus, logger } = deps;
  const compute = deps.query[endpoint];
  // Label children bound once: no request does label hashing.
  const count = deps.metrics?.queries.labels({ endpoint });
  const duration = deps.metrics?.queryDuration.labels({ endpoint });

  // Every answer carries the request id and the CORS headers, as the app's middleware gives the other
  // routes' answers; a refusal or error takes its shape from errors.ts.
  const answer = (headers: Headers, requestId: string, body: string | Blob): Response => {
    countStatus(200);
    return new Response(body, {
      headers: {
        "Content-Type": JSON_TYPE,
        "X-Request-Id": requestId,
        ...cors.headers(headers.get("origin")),
      },
    });
  };
  const refuse = (request: Request, requestId: string, err: unknown, extra?: Record<string, string>) => {
    const error = domainErrorOf(err, logger, { requestId, path: getPath(request) });
    const response = errorAnswer(error, requestId, {
      "X-Request-Id": requestId,
      ...cors.headers(request.headers.get("origin")),
      ...extra,
    });
    countStatus(response.status);
    return response;
  };

  /** The answer the query service computes: its own function, so that the cached one allocates no closure. */
  const computed = (request: Request, requestId: string, url: string, raw: string, started: number) => {
    const headers = request.headers;
    return compute(() => paramsOf(url), raw).then(
      (body) => {
        count?.inc();
        duration?.observe((performance.now() - started) / 1000);
        return answer(headers, requestId, body);
      },
      (err: unknown) => {
        duration?.observe((performance.now() - started) / 1000);
        return refuse(request, requestId, err);
      },
    );
  };

  /** Every listing request's way: `cacheable` when a copy may answer it (not for a HEAD). */
  const answered = (
    request: Request,
    headers: Headers,
    env: unknown,
    url: string,
    requestId: string,
    cacheable: boolean,
  ): Response | Promise<Response> => {
    const admitted = admitOrRefuse(headers, apiKeys, limiter, () => deps.address(request, env));
    if ("refusal" in admitted)
      return refuse(request, requestId, admitted.refusal.error, admitted.refusal.headers);
    const started = performance.now();
    const raw = rawQuery(url);
    const held = cacheable ? deps.query.hot(endpoint, raw) : undefined;
    if (held === undefined) return computed(request, requestId, url, raw, started);
    count?.inc();
    const response = answer(headers, requestId, held);
    duration?.observe((performance.now() - started) / 1000);
    return response;
  };

  /** Anything thrown is answered too: a DomainError as itself, anything else as a logged 500. */
  const handle = (request: Request, env: unknown, url: string, cacheable: boolean) => {
    const headers = request.headers;
    const requestId = requestIdOf(headers.get("x-request-id"));
    try {
      return answered(request, headers, env, url, requestId, cacheable);
    } catch (err) {
      return refuse(request, requestId, err);
    }
  };

  return {
    beforeRouting: (request, env, url) => handle(request, env, url, true),
    route: (c) => handle(c.req.raw, c.env, c.req.url, c.req.method === "GET"),
  };
};
