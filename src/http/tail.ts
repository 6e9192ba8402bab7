// Live tail over Server-Sent Events: each event's SSE id is its cursor, and Last-Event-ID resumes without gap.
//
// A stream takes a slot (bounded in total and per client) before anything is read, then subscribes to the
// shared poller of its filter (src/services/tail-hub.ts) and writes what it is handed. The slot is freed
// whichever way the stream ends: the client leaves, the stream reaches its maximum life, the store fails,
// or the gateway shuts down.

import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { DomainError } from "../domain/errors.ts";
import { startCursor } from "../domain/page-shape.ts";
import { type Params, parseTailParams } from "../domain/query-params.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { TailHub } from "../services/tail-hub.ts";
import type { TailSlots } from "./tail-slots.ts";

export interface TailOptions {
  hub: TailHub;
  slots: TailSlots;
  metrics?: Metrics;
  logger?: Logger;
  heartbeatMs?: number;
  /** Upper bound on one stream's life; the client reconnects with Last-Event-ID. */
  maxStreamMs?: number;
  /** Aborted at shutdown: open streams end so the server can stop (clients reconnect elsewhere). */
  closing?: AbortSignal;
  /** How the request's parameters are read (the gateway merges repeated list parameters). */
  params?: (c: Context) => Params;
}

export const tailHandler = (opts: TailOptions) => async (c: Context) => {
  const tail = parseTailParams(opts.params ? opts.params(c) : c.req.query(), c.req.header("last-event-id"));
  const release = opts.slots.acquire(c.get("client") ?? "unknown");
  let start: { afterSeq: number; watermark: number };
  try {
    start = await opts.hub.start(tail.after?.seq);
  } catch (error) {
    release();
    if (error instanceof DomainError) throw error;
    opts.logger?.error("log store read failed", { error });
    throw new DomainError("unavailable", "the log store is unavailable; retry shortly", { retryAfter: 1 });
  }

  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxStreamMs = opts.maxStreamMs ?? 30 * 60_000;
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (stream) => {
    opts.metrics?.tailClients.inc();
    const filter = {
      levels: tail.levels,
      sources: tail.sources,
      ...(tail.terms ? { terms: tail.terms } : {}),
    };
    const sub = opts.hub.subscribe(filter, start.afterSeq, start.watermark);
    const end = () => sub.close();
    stream.onAbort(end);
    // A client that went away frees its slot at once, not at the next write (up to a heartbeat later).
    const request = c.req.raw.signal;
    request.addEventListener("abort", end);
    if (request.aborted) end();
    opts.closing?.addEventListener("abort", end);
    if (opts.closing?.aborted) end();
    const started = Date.now();
    let lastWrite = Date.now();
    try {
      // The ready event carries the start position as its id: a reconnect before any event resumes here.
      await stream.writeSSE({
        event: "ready",
        id: startCursor(start.afterSeq),
        data: JSON.stringify({ after: start.afterSeq }),
        retry: 1000,
      });
      for (let left = maxStreamMs; left > 0; left = maxStreamMs - (Date.now() - started)) {
        const batch = await sub.next(Math.min(heartbeatMs, left));
        if ("closed" in batch) break;
        if ("failed" in batch) {
          opts.logger?.warn("live tail stopped on a store error", { error: batch.failed });
          // The client reconnects after `retry` with its Last-Event-ID: nothing is lost.
          await stream.writeSSE({ event: "error", data: JSON.stringify({ error: "unavailable" }) });
          break;
        }
        if (batch.frames.length) {
          // One write per batch: the frames' text is shared by every stream that gets them.
          await stream.write(batch.frames.map((f) => f.text).join(""));
          lastWrite = Date.now();
        } else if (Date.now() - lastWrite >= heartbeatMs) {
          await stream.write(": keep-alive\n\n");
          lastWrite = Date.now();
        }
      }
    } catch {
      // The socket went away mid-write: the client reconnects with its Last-Event-ID.
    } finally {
      end();
      opts.closing?.removeEventListener("abort", end);
      request.removeEventListener("abort", end);
      release();
      opts.metrics?.tailClients.dec();
    }
  });
};
