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

const base64Text = (text: string): string | undefined => {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, "base64").toString("utf8");
};

/**
 * What a request presents as an API key, in each shipper's own form: X-API-Key alone when present (a wrong
 * one is never rescued by another header), else Authorization as `Bearer <key>`, `Splunk <key>`,
 * `ApiKey <key>` (raw, or Elasticsearch's base64 of "id:key"), or `Basic` with the key as the password.
 */
export const presentedKeys = (
  authorization: string | null | undefined,
  apiKey: string | null | undefined,
): string[] => {
  if (apiKey) return [apiKey.trim()];
  const m = authorization ? /^(Bearer|Splunk|ApiKey|Basic)\s+(.+)$/i.exec(authorization.trim()) : null;
  const scheme = m?.[1]?.toLowerCase();
  const value = m?.[2]?.trim();
  if (!scheme || !value) return [];
  if (scheme === "bearer" || scheme === "splunk") return [value];
  const decoded = base64Text(value);
  const colon = decoded?.indexOf(":") ?? -1;
  const password = decoded !== undefined && colon >= 0 ? decoded.slice(colon + 1) : undefined;
  if (scheme === "basic") return password ? [password] : [];
  return password ? [value, password] : [value];
};

/** The configured keys as bytes, made once per list (they were made on every request: ~2 µs of a cached answer). */
const keyBytes = new WeakMap<readonly string[], Buffer[]>();
const bytesOf = (keys: readonly string[]): Buffer[] => {
  let bytes = keyBytes.get(keys);
  if (!bytes) {
    bytes = keys.map((k) => Buffer.from(k));
    keyBytes.set(keys, bytes);
  }
  return bytes;
};

/** Compares against every key in constant time per key, so timing reveals neither key nor position. */
export const matchesKey = (given: string, keys: readonly string[]): boolean => {
  const a = Buffer.from(given);
  let ok = false;
  for (const b of bytesOf(keys)) {
    const same = a.length === b.length ? timingSafeEqual(a, b) : timingSafeEqual(b, b) && false;
    ok = same || ok;
  }
  return ok;
};

/** The presented key that is one of the keys, checking every candidate (at most two) in constant time. */
const acceptedKey = (given: string[], keys: readonly string[]): string | undefined => {
  let found: string | undefined;
  for (const candidate of given) if (matchesKey(candidate, keys)) found ??= candidate;
  return found;
};

/** What a request without an accepted key is answered (401), with the WWW_AUTHENTICATE header. */
export const unauthorized = (): DomainError =>
  new DomainError(
    "unauthorized",
    "a valid API key is required (X-API-Key, or Authorization: Bearer, Basic, ApiKey or Splunk)",
  );
export const WWW_AUTHENTICATE = 'Bearer realm="logproc"';

/**
 * The key check: undefined when keys are configured and the request presents none of them; else the client
 * the request counts as, `key:<key>` when keys are configured, else `ip:<address>` when an address function
 * is given (looking the address up costs every request, so only callers that need it give one), else "".
 */
export const admit = (
  headers: Headers,
  keys: readonly string[],
  address?: () => string,
): string | undefined => {
  if (keys.length > 0) {
    const given = acceptedKey(presentedKeys(headers.get("authorization"), headers.get("x-api-key")), keys);
    return given === undefined ? undefined : `key:${given}`;
  }
  return address ? `ip:${address()}` : "";
};

/**
 * Enforces the key and sets c.var.client to it (when keys are configured) or else to the remote address,
 * when a remote function is given (what the rate limits need; looking the address up costs every request).
 */
export const apiKeyAuth =
  (keys: readonly string[], remote?: (c: Parameters<MiddlewareHandler>[0]) => string): MiddlewareHandler =>
  async (c, next) => {
    const client = admit(c.req.raw.headers, keys, remote && (() => remote(c)));
    if (client === undefined) {
      c.header("WWW-Authenticate", WWW_AUTHENTICATE);
      return errorResponse(c, unauthorized());
    }
    if (client) c.set("client", client);
    await next();
  };
