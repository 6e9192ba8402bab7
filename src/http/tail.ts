// Live tail over Server-Sent Events: each event's SSE id is its cursor, and Last-Event-ID resumes without gap.

import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { decodeCursor, encodeCursor } from "../domain/cursor.ts";
import { DomainError } from "../domain/errors.ts";
import { eventJson } from "../domain/page-shape.ts";
import { parseLogQuery } from "../domain/query-params.ts";
import { parseSearch } from "../domain/search-syntax.ts";
import type { LogReader } from "../ports/log-store.ts";
import type { Metrics } from "../observability/metrics.ts";

export interface TailOptions {
  reader: LogReader;
  metrics?: Metrics;
  pollMs?: number;
  heartbeatMs?: number;
  /** Upper bound on one stream's life; the client reconnects with Last-Event-ID. */
  maxStreamMs?: number;
}

export const tailHandler = (opts: TailOptions) => async (c: Context) => {
  const params = c.req.query();
  // Reuse the shared parser for level/source validation; the time window does not apply to a tail.
  const filter = parseLogQuery({ level: params.level, source: params.source });
  const text = params.query?.trim();
  const terms = text ? parseSearch(text) : undefined;
  const resumeFrom = c.req.header("last-event-id") ?? params.cursor;
  let afterSeq: number;
  if (resumeFrom) {
    const cursor = decodeCursor(resumeFrom);
    if (!cursor) throw new DomainError("validation_failed", "Last-Event-ID/cursor is not a cursor this service issued", {
      details: [{ field: "cursor", message: "is not a cursor this service issued" }],
    });
    afterSeq = cursor.seq;
  } else afterSeq = await opts.reader.watermark();

  const pollMs = opts.pollMs ?? 250;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxStreamMs = opts.maxStreamMs ?? 30 * 60_000;
  return streamSSE(c, async (stream) => {
    opts.metrics?.tailClients.inc();
    let open = true;
    stream.onAbort(() => {
      open = false;
    });
    const started = Date.now();
    let lastWrite = Date.now();
    try {
      await stream.writeSSE({ event: "ready", data: JSON.stringify({ after: afterSeq }), retry: 1000 });
      while (open && Date.now() - started < maxStreamMs) {
        const events = await opts.reader.tail({
          afterSeq,
          levels: filter.levels,
          sources: filter.sources,
          ...(terms ? { terms } : {}),
          limit: 500,
        });
        for (const e of events) {
          afterSeq = e.seq;
          await stream.writeSSE({ id: encodeCursor({ ts: e.timestamp, id: e.id, seq: e.seq }), data: JSON.stringify(eventJson(e)) });
          lastWrite = Date.now();
        }
        if (Date.now() - lastWrite > heartbeatMs) {
          await stream.write(": keep-alive\n\n");
          lastWrite = Date.now();
        }
        if (events.length < 500) await stream.sleep(pollMs);
      }
    } finally {
      opts.metrics?.tailClients.dec();
    }
  });
};
