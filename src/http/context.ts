// Typed Hono context variables shared by every app.

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError } from "../domain/errors.ts";

/** Answers an error in a shipper protocol's own shape (set by that protocol's routes). */
export type ErrorRenderer = (c: Context, error: DomainError, status: ContentfulStatusCode) => Response;

export type AppEnv = { Variables: { requestId: string; client: string; renderError: ErrorRenderer } };

declare module "hono" {
  interface ContextVariableMap {
    requestId: string;
    client: string;
    renderError: ErrorRenderer;
  }
}
