// Starts a Hono app on Bun's HTTP server and stops it by refusing new connections first.

import type { Hono } from "hono";
import type { Logger } from "../observability/logger.ts";

export interface Served {
  port: number;
  stop(): Promise<void>;
}

export const serve = (
  app: Hono,
  opts: { host: string; port: number; maxBodyBytes?: number; logger: Logger; name: string },
): Served => {
  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    // Compressed bodies are checked again after decompression; this only caps what the socket delivers.
    maxRequestBodySize: opts.maxBodyBytes ?? 1024 * 1024,
    idleTimeout: 120,
    fetch: (req, srv) => app.fetch(req, { server: srv }),
  });
  const port = server.port ?? opts.port;
  opts.logger.info(`${opts.name} listening`, { host: opts.host, port });
  return {
    port,
    stop: async () => {
      await server.stop(false);
    },
  };
};
