// Rate limiting per client and overall with token buckets: 429 + Retry-After, decided before any work is done.

import type { MiddlewareHandler } from "hono";
import { DomainError } from "../domain/errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import { errorResponse } from "./errors.ts";

export interface RateLimitSettings {
  /** Sustained requests per second per client; 0 = no per-client limit. */
  rps: number;
  /** Requests a client may make at once after being idle (the bucket size). */
  burst: number;
  /** Sustained requests per second over all clients; 0 = no overall limit. */
  globalRps: number;
}

export interface TokenBucket {
  /** Milliseconds until `key` has a token (0 = it has one now). Takes nothing. */
  waitMs(key: string, now: number): number;
  /** Spends one token of `key`; call only after waitMs answered 0. */
  take(key: string, now: number): void;
}

/**
 * A token bucket per key in GCRA form: one number per key (the time its bucket is full again), refilled
 * lazily, checked and spent synchronously so concurrent requests cannot both take the last token.
 *
 * Why not rate-limiter-flexible (the first version): it only offers fixed windows, and its
 * BurstyRateLimiter refills the burst pool on a window of its own, so a client could sustain about twice
 * RATE_LIMIT_RPS and, at window edges, send rps + burst requests at once.
 */
export const createTokenBucket = (ratePerSecond: number, burst: number): TokenBucket => {
  if (!(ratePerSecond > 0)) throw new RangeError("ratePerSecond must be positive");
  const intervalMs = 1000 / ratePerSecond;
  const capacityMs = Math.max(1, Math.floor(burst)) * intervalMs;
  /** key → the instant its bucket is full again; a key absent or in the past has a full bucket. */
  const fullAt = new Map<string, number>();
  let sweptAt = 0;

  const sweep = (now: number): void => {
    if (now - sweptAt < 10_000) return;
    sweptAt = now;
    for (const [key, at] of fullAt) if (at <= now) fullAt.delete(key);
  };

  return {
    waitMs(key, now) {
      const at = Math.max(fullAt.get(key) ?? now, now);
      // Taking one more would push the refill point past a full bucket's worth: not yet.
      const wait = at + intervalMs - now - capacityMs;
      // Sums of fractional intervals drift by a few ulps; that must not turn "exactly now" into a 429.
      return wait > 1e-6 ? wait : 0;
    },
    take(key, now) {
      sweep(now);
      fullAt.set(key, Math.max(fullAt.get(key) ?? now, now) + intervalMs);
    },
  };
};

interface Scope {
  name: "client" | "global";
  bucket: TokenBucket;
  keyOf: (client: string) => string;
}

export interface RateLimiter {
  /** Spends a token of `client` in every scope when each has one, else answers the refusal and spends nothing. */
  take(client: string): DomainError | undefined;
  /** Whether take() would succeed now; spends and counts nothing. */
  allows(client: string): boolean;
}

/** Both scopes behind one check; undefined when no limit is configured. */
export const createRateLimiter = (
  s: RateLimitSettings,
  metrics?: Metrics,
  now: () => number = Date.now,
): RateLimiter | undefined => {
  const scopes: Scope[] = [];
  if (s.rps > 0)
    scopes.push({ name: "client", bucket: createTokenBucket(s.rps, s.burst || s.rps * 2), keyOf: (c) => c });
  if (s.globalRps > 0)
    scopes.push({
      name: "global",
      bucket: createTokenBucket(s.globalRps, s.globalRps * 2),
      keyOf: () => "all",
    });
  if (scopes.length === 0) return undefined;
  return {
    allows(client) {
      const t = now();
      return scopes.every((scope) => scope.bucket.waitMs(scope.keyOf(client), t) === 0);
    },
    take(client) {
      const t = now();
      for (const scope of scopes) {
        const wait = scope.bucket.waitMs(scope.keyOf(client), t);
        if (wait > 0) {
          metrics?.rateLimited.inc({ scope: scope.name });
          return new DomainError(
            "rate_limited",
            `rate limit exceeded (${scope.name}); retry after the indicated delay`,
            { retryAfter: Math.max(1, Math.ceil(wait / 1000)) },
          );
        }
      }
      for (const scope of scopes) scope.bucket.take(scope.keyOf(client), t);
      return undefined;
    },
  };
};

/** The limiter as route middleware, after authentication (which sets c.var.client). */
export const rateLimitGuard =
  (limiter: RateLimiter): MiddlewareHandler =>
  async (c, next) => {
    const refused = limiter.take(c.get("client") ?? "unknown");
    if (refused) return errorResponse(c, refused);
    await next();
  };
