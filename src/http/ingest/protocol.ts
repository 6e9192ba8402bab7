// What every shipper protocol's routes share with the native ones: the ingest service, body limit and guards.

import type { MiddlewareHandler } from "hono";
import type { Health } from "../../ports/log-bus.ts";
import type { Ingest } from "../../services/ingest.ts";
import type { ErrorRenderer } from "../context.ts";

export interface ProtocolDeps {
  ingest: Ingest;
  maxBodyBytes: number;
  /** API key check then rate limits: the native routes' guards, in the same order. */
  guards: MiddlewareHandler[];
  /** The ingest latency histogram's timer for an endpoint label. */
  timed: (endpoint: string) => MiddlewareHandler;
  health: () => Promise<Health>;
  /** The Elasticsearch version the handshake reports. */
  elasticsearchVersion: string;
}

/** Makes every error on this route (auth, rate limit, body, bus) answer in the protocol's shape. */
export const errorShape =
  (render: ErrorRenderer, headers: Record<string, string> = {}): MiddlewareHandler =>
  async (c, next) => {
    c.set("renderError", render);
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    await next();
  };

/** Several middleware as one (Hono's typed route overloads take a fixed list, not a spread array). */
export const chain =
  (handlers: readonly MiddlewareHandler[]): MiddlewareHandler =>
  (c, next) => {
    const run = async (i: number): Promise<Response | undefined> => {
      const handler = handlers[i];
      if (!handler) {
        await next();
        return undefined;
      }
      const answer = await handler(c, async () => {
        // An inner middleware that answers (a 401, a 429) returns its Response: it becomes the answer.
        const inner = await run(i + 1);
        if (inner && !c.finalized) c.res = inner;
      });
      return answer ?? undefined;
    };
    return run(0);
  };
