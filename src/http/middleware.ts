// Middleware every role uses: request id, API-key auth (constant time), request counting.

import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { DomainError } from "../domain/errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import { errorResponse } from "./errors.ts";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the caller's X-Request-Id when it is a plain token, else a new UUIDv7. */
export const requestIdOf = (given: string | null | undefined): string =>
  given && REQUEST_ID.test(given) ? given : Bun.randomUUIDv7();

export const requestId = (): MiddlewareHandler => async (c, next) => {
  const id = requestIdOf(c.req.header("x-request-id"));
  c.set("requestId", id);
  c.header("X-Request-Id", id);
  await next();
};

/** Counts a role's answers by status: one labelled child per status, bound on first use (no label hashing). */
export const statusCounter = (metrics: Metrics | undefined, role: string): ((status: number) => void) => {
  if (!metrics) return () => {};
  const byStatus = new Map<number, { inc(): void }>();
  return (status) => {
    let child = byStatus.get(status);
    if (!child) {
      child = metrics.httpRequests.labels({ role, status: String(status) });
      byStatus.set(status, child);
    }
    child.inc();
  };
};

export const countRequests =
  (count: (status: number) => void): MiddlewareHandler =>
  async (c, next) => {
    await next();
    count(c.res.status);
  };

const keyOf = (
  authorization: string | null | undefined,
  apiKey: string | null | undefined,
): string | undefined => {
  if (apiKey) return apiKey.trim();
  const m = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim()) : null;
  return m?.[1]?.trim();
};

/** Compares against every key in constant time per key, so timing reveals neither key nor position. */
export const matchesKey = (given: string, keys: readonly string[]): boolean => {
  const a = Buffer.from(given);
  let ok = false;
  for (const key of keys) {
    const b = Buffer.from(key);
    const same = a.length === b.length ? timingSafeEqual(a, b) : timingSafeEqual(b, b) && false;
    ok = same || ok;
  }
  return ok;
};

/** True when no keys are configured or the request carries one of them (what apiKeyAuth lets through). */
export const keyAccepted = (headers: Headers, keys: readonly string[]): boolean => {
  if (keys.length === 0) return true;
  const given = keyOf(headers.get("authorization"), headers.get("x-api-key"));
  return !!given && matchesKey(given, keys);
};

/**
 * The client a request counts as, as apiKeyAuth sets it: its key when keys are configured, else its address
 * (asked only then). For a request whose key keyAccepted already checked.
 */
export const clientOf = (headers: Headers, keys: readonly string[], address: () => string): string => {
  const given = keys.length > 0 ? keyOf(headers.get("authorization"), headers.get("x-api-key")) : undefined;
  return given ? `key:${given}` : `ip:${address()}`;
};

/**
 * Enforces the key and sets c.var.client to it (when keys are configured) or else to the remote address,
 * when a remote function is given (what the rate limits need; looking the address up costs every request).
 */
export const apiKeyAuth =
  (keys: readonly string[], remote?: (c: Parameters<MiddlewareHandler>[0]) => string): MiddlewareHandler =>
  async (c, next) => {
    const given = keyOf(c.req.header("authorization"), c.req.header("x-api-key"));
    if (keys.length > 0) {
      if (!given || !matchesKey(given, keys)) {
        c.header("WWW-Authenticate", 'Bearer realm="logproc"');
        return errorResponse(
          c,
          new DomainError(
            "unauthorized",
            "a valid API key is required (Authorization: Bearer <key> or X-API-Key)",
          ),
        );
      }
      c.set("client", `key:${given}`);
    } else if (remote) c.set("client", `ip:${remote(c)}`);
    await next();
  };
