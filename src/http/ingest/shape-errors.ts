// Re-renders every error answer of a shipper route (auth, rate limit, body, validation) in that protocol's shape.

import type { Context, MiddlewareHandler } from "hono";
import { DomainError, type ErrorCode } from "../../domain/errors.ts";
import { statusOf } from "../errors.ts";

export type ErrorRenderer = (c: Context, error: DomainError, status: number) => Response;

const CODES: ReadonlySet<string> = new Set<ErrorCode>([
  "validation_failed",
  "malformed_json",
  "payload_too_large",
  "unsupported_media_type",
  "unauthorized",
  "rate_limited",
  "not_found",
  "unavailable",
  "internal",
]);

/**
 * The domain error behind an answer: thrown (c.error), or answered directly by a guard in the native shape;
 * undefined for an answer the route itself gave in its protocol's shape.
 */
const errorOf = async (c: Context): Promise<DomainError | undefined> => {
  if (c.error instanceof DomainError) return c.error;
  if (c.error) return new DomainError("internal", "internal error");
  if (!c.res.headers.get("content-type")?.startsWith("application/json")) return undefined;
  try {
    const body = (await c.res.clone().json()) as { error?: unknown; message?: unknown };
    if (typeof body.error !== "string" || !CODES.has(body.error)) return undefined;
    return new DomainError(
      body.error as ErrorCode,
      typeof body.message === "string" ? body.message : "refused",
    );
  } catch {
    return undefined;
  }
};

/** Put first on a route: after the chain ran, an error answer is rendered again by `render` (same status). */
export const shapeErrors =
  (render: ErrorRenderer): MiddlewareHandler =>
  async (c, next) => {
    await next();
    if (c.res.status < 400) return;
    const error = await errorOf(c);
    if (!error) return;
    // Hono copies the old answer's headers (request id, Retry-After, WWW-Authenticate) onto the new one.
    c.res = render(c, error, statusOf(error));
    c.res.headers.delete("content-length");
  };
