// The client address of a request, for rate limiting and tail slots when no API key identifies the client.

import type { Server } from "bun";
import type { Context } from "hono";

/** The peer address of `request` as the Bun server passed in the app's env saw it ("unknown" without one). */
export const requestAddress = (request: Request, env: unknown): string => {
  try {
    const server = (env as { server?: Server<unknown> } | undefined)?.server;
    return server?.requestIP(request)?.address ?? "unknown";
  } catch {
    return "unknown";
  }
};

export const remoteAddress = (c: Context): string => requestAddress(c.req.raw, c.env);
