// Handlers outside the router and the middleware chain: the hot exact paths (the gateway's listings, the
// producer's single-event posts) are answered before routing, with the key check and rate limit every other
// route gets from its middleware.

import type { Hono } from "hono";
import type { DomainError } from "../domain/errors.ts";
import { admit, unauthorized, WWW_AUTHENTICATE } from "./middleware.ts";
import { rawPath } from "./query-string.ts";
import type { RateLimiter } from "./rate-limit.ts";

export type EarlyHandler = (request: Request, env: unknown, url: string) => Response | Promise<Response>;

/** Requests of `method` for one of the handlers' exact paths go to it; everything else is routed as before. */
export const answerBeforeRouting = (app: Hono, method: string, handlers: Map<string, EarlyHandler>): void => {
  const routed = app.fetch;
  app.fetch = (request, env, ...rest) => {
    if (request.method !== method) return routed(request, env, ...rest);
    const url = request.url;
    const handler = handlers.get(rawPath(url));
    return handler ? handler(request, env, url) : routed(request, env, ...rest);
  };
};

/** Why a request is refused before its handler runs, with the headers that refusal adds. */
export interface Refusal {
  error: DomainError;
  headers?: Record<string, string>;
}

/**
 * The key check, then one token of the rate limit: the client the request counts as, or its refusal. In the
 * order the middleware applies them (apiKeyAuth, then rateLimitGuard).
 */
export const admitOrRefuse = (
  headers: Headers,
  keys: readonly string[],
  limiter: RateLimiter | undefined,
  address: () => string,
): { client: string } | { refusal: Refusal } => {
  const client = admit(headers, keys, limiter ? address : undefined);
  if (client === undefined)
    return { refusal: { error: unauthorized(), headers: { "WWW-Authenticate": WWW_AUTHENTICATE } } };
  const limited = limiter?.take(client);
  return limited ? { refusal: { error: limited } } : { client };
};
