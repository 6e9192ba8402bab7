// Rate limiting per client and overall (rate-limiter-flexible): a sustained rate plus a burst allowance.
// A rejection is a 429 with Retry-After; it happens before the bus is touched, so it never trips the breaker.

import type { MiddlewareHandler } from "hono";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { DomainError } from "../domain/errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import { errorResponse } from "./errors.ts";

export interface RateLimitSettings {
  rps: number;
  burst: number;
  globalRps: number;
}

/** rps tokens refill each second; up to `burst` more may be spent at once and refill over burst/rps seconds. */
const bursty = (rps: number, burst: number, prefix: string): BurstyRateLimiter =>
  new BurstyRateLimiter(
    new RateLimiterMemory({ keyPrefix: `${prefix}:rate`, points: rps, duration: 1 }),
    new RateLimiterMemory({
      keyPrefix: `${prefix}:burst`,
      points: Math.max(burst - rps, 1),
      duration: Math.max(1, Math.ceil(Math.max(burst - rps, 1) / rps)),
    }),
  );

const guard = (limiter: BurstyRateLimiter, scope: string, keyOf: (client: string) => string, metrics?: Metrics): MiddlewareHandler =>
  async (c, next) => {
    try {
      await limiter.consume(keyOf(c.get("client") ?? "unknown"));
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      metrics?.rateLimited.inc({ scope });
      return errorResponse(
        c,
        new DomainError("rate_limited", `rate limit exceeded (${scope}); retry after the indicated delay`, {
          retryAfter: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
        }),
      );
    }
    await next();
  };

export const createRateLimitGuards = (s: RateLimitSettings, metrics?: Metrics): MiddlewareHandler[] => {
  const guards: MiddlewareHandler[] = [];
  if (s.globalRps > 0) guards.push(guard(bursty(s.globalRps, s.globalRps * 2, "global"), "global", () => "all", metrics));
  if (s.rps > 0) guards.push(guard(bursty(s.rps, Math.max(s.burst, s.rps), "client"), "client", (client) => client, metrics));
  return guards;
};
