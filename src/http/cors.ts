// CORS for the query API: one function computes the headers, shared by the middleware and the listings.
//
// Written here rather than taken from hono/cors because the gateway's listings answer outside Hono's
// middleware chain (listing-route.ts): every answer must take the header from the same function, and
// hono/cors only writes through a Context.

import type { MiddlewareHandler } from "hono";

/** The query API only reads. */
export const CORS_METHODS = "GET, HEAD, OPTIONS";
/** What a browser client sends: a key either way, a JSON content type, the tail's resume point. */
export const CORS_REQUEST_HEADERS = "Authorization, X-API-Key, Content-Type, Last-Event-ID, X-Request-Id";
/** What a browser client may read besides the simple headers: the request id and when to retry. */
const EXPOSED = "X-Request-Id, Retry-After, WWW-Authenticate";
/** How long a browser may reuse a preflight answer, in seconds. */
const MAX_AGE = "600";

export type CorsHeaders = Readonly<Record<string, string>>;

export interface Cors {
  /** The CORS headers of an actual answer to a request from `origin` (empty: not allowed, or CORS off). */
  headers(origin: string | null | undefined): CorsHeaders;
  /** Answers preflights with 204 and adds headers() to every other answer of the routes it guards. */
  middleware: MiddlewareHandler;
}

const NONE: CorsHeaders = Object.freeze({});

/**
 * `origins`: CORS_ORIGINS parsed, `*` for any origin (the replaced design's default), else the exact
 * origins allowed; empty turns CORS off (no header; a preflight falls through to the routes, i.e. 404).
 */
export const createCors = (origins: readonly string[]): Cors => {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  const anyHeaders: CorsHeaders = Object.freeze({
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": EXPOSED,
  });
  // The answer depends on the Origin sent, so shared caches must key on it.
  const refused: CorsHeaders = Object.freeze({ Vary: "Origin" });
  const headers = (origin: string | null | undefined): CorsHeaders => {
    if (any) return anyHeaders;
    if (allowed.size === 0) return NONE;
    if (!origin || !allowed.has(origin)) return refused;
    return {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Expose-Headers": EXPOSED,
      Vary: "Origin",
    };
  };

  const middleware: MiddlewareHandler = async (c, next) => {
    if (allowed.size === 0) return next();
    const origin = c.req.header("origin");
    if (c.req.method === "OPTIONS" && origin && c.req.header("access-control-request-method")) {
      return c.body(null, 204, {
        ...headers(origin),
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Allow-Headers": CORS_REQUEST_HEADERS,
        "Access-Control-Max-Age": MAX_AGE,
      });
    }
    await next();
    for (const [name, value] of Object.entries(headers(origin))) {
      if (name === "Vary") c.res.headers.append(name, value);
      else c.res.headers.set(name, value);
    }
  };

  return { headers, middleware };
};
