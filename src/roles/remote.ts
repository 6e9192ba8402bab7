// The client address of a request, for rate limiting when no API key identifies the client.

import type { Context } from "hono";
import { getConnInfo } from "hono/bun";

export const remoteAddress = (c: Context): string => {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
};
