// Live tail over Server-Sent Events: each event's SSE id is its cursor, and Last-Event-ID resumes without gap.
//
// The stream walks arrival order (seq) up to the store's watermark in bounded windows. A window whose
// answer is short of the batch limit has been examined whole, so the position moves to the window's end
// even when nothing in it matched: a filter that matches nothing never rescans the same rows.

import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { encodeCursor } from "../domain/cursor.ts";
import { DomainError } from "../domain/errors.ts";
import { eventJson, startCursor } from "../domain/page-shape.ts";
import { type Params, parseTailParams } from "../domain/query-params.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LogReader } from "../ports/log-store.ts";

export interface TailOptions {
  reader: LogReader;
  /**
   * The store's watermark for polling, shared by every stream (defaults to asking the reader). A stream
   * without a position starts at the reader's own watermark, so it starts exactly at "now".
   */
  watermark?: () => Promise<number>;
  metrics?: Metrics;
  logger?: Logger;
  pollMs?: number;
  heartbeatMs?: number;
  /** Upper bound on one stream's life; the client reconnects with Last-Event-ID. */
  maxStreamMs?: number;
  /** Aborted at shutdown: open streams end so the server can stop (clients reconnect elsewhere). */
  closing?: AbortSignal;
  /** How the request's parameters are read (the gateway merges repeated list parameters). */
  params?: (c: Context) => Params;
}

/** Events sent per store read. */
const BATCH = 500;
/** Most arrival sequence numbers one store read covers: bounds the rows a text filter examines. */
const SEQ_WINDOW = 10_000;

export const tailHandler = (opts: TailOptions) => async (c: Context) => {
  const watermarkOf = opts.watermark ?? (() => opts.reader.watermark());
  const tail = parseTailParams(opts.params ? opts.params(c) : c.req.query(), c.req.header("last-event-id"));
  let afterSeq: number;
  try {
    afterSeq = tail.after ? tail.after.seq : await opts.reader.watermark();
  } catch (error) {
    opts.logger?.error("log store read failed", { error });
    throw new DomainError("unavailable", "the log store is unavailable; retry shortly", { retryAfter: 1 });
  }

  const pollMs = opts.pollMs ?? 250;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxStreamMs = opts.maxStreamMs ?? 30 * 60_000;
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (stream) => {
    opts.metrics?.tailClients.inc();
    let open = true;
    stream.onAbort(() => {
      open = false;
    });
    const started = Date.now();
    let lastWrite = Date.now();
    try {
      // The ready event carries the start position as its id: a reconnect before any event resumes here.
      await stream.writeSSE({
        event: "ready",
        id: startCursor(afterSeq),
        data: JSON.stringify({ after: afterSeq }),
        retry: 1000,
      });
      while (open && !opts.closing?.aborted && Date.now() - started < maxStreamMs) {
        const watermark = await watermarkOf();
        let behind = false;
        if (watermark > afterSeq) {
          const until = Math.min(watermark, afterSeq + SEQ_WINDOW);
          const events = await opts.reader.tail({
            afterSeq,
            untilSeq: until,
            levels: tail.levels,
            sources: tail.sources,
            ...(tail.terms ? { terms: tail.terms } : {}),
            limit: BATCH,
          });
          for (const e of events) {
            // A reader that ignored a bound must not make us skip or repeat anything.
            if (e.seq <= afterSeq || e.seq > until) continue;
            afterSeq = e.seq;
            await stream.writeSSE({
              id: encodeCursor({ ts: e.timestamp, id: e.id, seq: e.seq }),
              data: JSON.stringify(eventJson(e)),
            });
            lastWrite = Date.now();
          }
          if (events.length < BATCH) afterSeq = until;
          behind = afterSeq < watermark;
        }
        if (Date.now() - lastWrite > heartbeatMs) {
          await stream.write(": keep-alive\n\n");
          lastWrite = Date.now();
        }
        if (!behind) await stream.sleep(pollMs);
      }
    } catch (error) {
      if (open) {
        opts.logger?.warn("live tail stopped on a store error", { error });
        // The client reconnects after `retry` with its Last-Event-ID: nothing is lost.
        await stream
          .writeSSE({ event: "error", data: JSON.stringify({ error: "unavailable" }) })
          .catch(() => {});
      }
    } finally {
      opts.metrics?.tailClients.dec();
    }
  });
};
