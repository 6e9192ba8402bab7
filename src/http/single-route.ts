// The single-event routes (POST /ingest and /ingest/async): one handler answers each, with the key check, rate
// limit, metrics and answers the app's middleware gives every other route.
//
// The producer hands it a POST of the route's exact path before routing: one event per request is how most
// clients send, and the router and the middleware chain cost a fifth of such a request's CPU. The router
// reaches the same handler for the rest (a percent-encoded path). Refusals and errors take their shapes
// from errors.ts.

import type { Handler } from "hono";
import { getPath } from "hono/utils/url";
import type { LogEvent } from "../domain/log-event.ts";
import type { Logger } from "../observability/logger.ts";
import { admitOrRefuse } from "./before-routing.ts";
import { domainErrorOf, errorAnswer } from "./errors.ts";
import { requestIdOf } from "./middleware.ts";
import type { RateLimiter } from "./rate-limit.ts";

export interface SingleRouteDeps {
  /** Takes the request's one event (its body, read and checked) and answers with the accepted event. */
  accept: (request: Request) => Promise<LogEvent> | LogEvent;
  apiKeys: readonly string[];
  /** RATE_LIMIT_*: one token per request, after the key check, as on every ingest route. */
  rateLimit?: RateLimiter;
  /** The peer address of a request (the client of a request without an API key). */
  address: (request: Request, env: unknown) => string;
  /** The role's http_requests_total, by status. */
  countStatus: (status: number) => void;
  /** The route's ingestion_duration_seconds child, bound once. */
  duration?: { observe(seconds: number): void };
  /** The answer's status and its message, as the replaced design wrote them. */
  status: 200 | 202;
  message: string;
  logger: Logger;
}

export interface SingleRoute {
  /** For a POST of the route's exact path, before routing. */
  beforeRouting(request: Request, env: unknown): Promise<Response>;
  /** The route, for whatever else the router sends it. */
  route: Handler;
}

export const createSingleRoute = (deps: SingleRouteDeps): SingleRoute => {
  const { apiKeys, rateLimit: limiter, countStatus, duration, status, message, logger } = deps;

  const finish = (response: Response, started: number): Response => {
    countStatus(response.status);
    duration?.observe((performance.now() - started) / 1000);
    return response;
  };

  const refuse = (request: Request, requestId: string, err: unknown, extra?: Record<string, string>) => {
    const error = domainErrorOf(err, logger, { requestId, path: getPath(request) });
    return errorAnswer(error, requestId, { "X-Request-Id": requestId, ...extra });
  };

  const accepted = (event: LogEvent, requestId: string): Response =>
    new Response(JSON.stringify({ status: "accepted", logId: event.id, message }), {
      status,
      headers: { "Content-Type": "application/json", "X-Request-Id": requestId },
    });

  const handle = async (request: Request, env: unknown): Promise<Response> => {
    const started = performance.now();
    const headers = request.headers;
    const requestId = requestIdOf(headers.get("x-request-id"));
    try {
      const admitted = admitOrRefuse(headers, apiKeys, limiter, () => deps.address(request, env));
      if ("refusal" in admitted)
        return finish(refuse(request, requestId, admitted.refusal.error, admitted.refusal.headers), started);
      return finish(accepted(await deps.accept(request), requestId), started);
    } catch (err) {
      return finish(refuse(request, requestId, err), started);
    }
  };

  return {
    beforeRouting: handle,
    route: (c) => handle(c.req.raw, c.env),
  };
};
