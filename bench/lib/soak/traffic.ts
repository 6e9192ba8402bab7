// The soak's clients: mixed requests (single, async, JSON and NDJSON batches, gzip, resends of the same ids)
// against the producer's port, each bounded in time; every answer goes into the ledger.

import { gzipSync } from "node:zlib";
import type { Ledger, RequestKind, SoakEvent } from "./ledger.ts";

const BASE = "/producer/api/logs";
const REQUEST_BOUND_MS = 15_000;

export interface TrafficOptions {
  clients: number;
  /** Pause between two requests of one client. */
  pauseMs: number;
  /** Most events in a regular batch; one extra client sends batches of up to 20x that (kills land mid-batch). */
  maxBatch: number;
  random: () => number;
}

const body = (
  kind: RequestKind,
  events: SoakEvent[],
): { data: string | Uint8Array; headers: Record<string, string> } => {
  const ndjson = kind === "ndjson" || kind === "gzip-ndjson";
  const text =
    kind === "single" || kind === "async"
      ? JSON.stringify(events[0])
      : ndjson
        ? events.map((e) => JSON.stringify(e)).join("\n")
        : JSON.stringify(events);
  const headers: Record<string, string> = {
    "content-type": ndjson ? "application/x-ndjson" : "application/json",
  };
  if (kind.startsWith("gzip")) {
    headers["content-encoding"] = "gzip";
    return { data: gzipSync(text), headers };
  }
  return { data: text, headers };
};

const isUnanswered = (error: unknown): boolean =>
  error instanceof Error &&
  /timeout|abort|connect|ECONNRE|socket|closed|reset|refused/i.test(`${error.name} ${error.message}`);

/** Sends one request and books its answer. */
export const send = async (
  port: number,
  ledger: Ledger,
  kind: RequestKind,
  events: SoakEvent[],
): Promise<void> => {
  const path = kind === "single" ? "/ingest" : kind === "async" ? "/ingest/async" : "/batch";
  const { data, headers } = body(kind, events);
  ledger.sending(kind, events);
  ledger.inFlight++;
  try {
    const res = await fetch(`http://127.0.0.1:${port}${BASE}${path}`, {
      method: "POST",
      headers,
      body: data,
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
    });
    const text = await res.text();
    if (kind === "async") {
      if (res.status === 202) ledger.asyncAccepted((JSON.parse(text) as { logId: string }).logId);
      else if (res.status !== 503) ledger.bump(`async status ${res.status}`);
      return;
    }
    if (res.status === 200) {
      const out = JSON.parse(text) as { logId?: string; logIds?: string[] };
      ledger.acknowledged(events, out.logIds ?? (out.logId ? [out.logId] : []));
    } else if (res.status === 503) {
      const why = String((JSON.parse(text) as { message?: string }).message ?? "?").slice(0, 80);
      ledger.counts.reasons503[why] = (ledger.counts.reasons503[why] ?? 0) + 1;
      ledger.failed(events, "503");
    } else {
      ledger.bump(`${kind} status ${res.status}: ${text.slice(0, 120)}`);
      ledger.failed(events, "unanswered");
    }
  } catch (error) {
    if (kind === "async") return;
    if (!isUnanswered(error)) ledger.bump(error instanceof Error ? `${error.name}: ${error.message}` : "?");
    ledger.failed(events, "unanswered");
  } finally {
    ledger.inFlight--;
  }
};

const pick = <T>(xs: readonly T[], random: () => number): T => xs[Math.floor(random() * xs.length)] as T;
const BATCH_KINDS = ["json", "ndjson", "gzip-json", "gzip-ndjson"] as const;

/** A client holds at most this many unacknowledged events: past it, it only resends (as a bounded buffer would). */
const MAX_PENDING = 5000;

/** One step of a regular client: a resend one time in six, else a fresh request of a random kind. */
const step = async (port: number, ledger: Ledger, o: TrafficOptions): Promise<void> => {
  const r = ledger.pending() > MAX_PENDING ? 0 : o.random();
  if (r < 1 / 6) {
    const again = ledger.resend(o.random);
    if (again) {
      const kind = again.length === 1 && o.random() < 0.5 ? "single" : pick(BATCH_KINDS, o.random);
      return send(port, ledger, kind, again);
    }
  }
  if (r < 0.35) return send(port, ledger, "single", ledger.fresh(1, "single"));
  if (r < 0.45) return send(port, ledger, "async", ledger.fresh(1, "async"));
  const kind = pick(BATCH_KINDS, o.random);
  return send(port, ledger, kind, ledger.fresh(1 + Math.floor(o.random() * o.maxBatch), kind));
};

export interface Traffic {
  stop(): Promise<void>;
}

/** Starts the clients (plus one of large batches); `port()` is read per request (roles move on restart). */
export const startTraffic = (port: () => number, ledger: Ledger, o: TrafficOptions): Traffic => {
  let stopped = false;
  // A client that got no 2xx backs off for a while before its next request, as real shippers do.
  const backoff = (before: number) => (ledger.pending() > before ? 10 : 1);
  const regular = async (): Promise<void> => {
    while (!stopped) {
      const before = ledger.pending();
      await step(port(), ledger, o);
      await Bun.sleep(o.pauseMs * (0.5 + o.random()) * backoff(before));
    }
  };
  const large = async (): Promise<void> => {
    while (!stopped) {
      const before = ledger.pending();
      if (before <= MAX_PENDING) {
        const kind = pick(["json", "gzip-ndjson"] as const, o.random);
        const n = o.maxBatch * (5 + Math.floor(o.random() * 15));
        await send(port(), ledger, kind, ledger.fresh(n, kind));
      }
      await Bun.sleep(o.pauseMs * 20 * backoff(before));
    }
  };
  const running = [...Array.from({ length: o.clients }, regular), large()];
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(running);
    },
  };
};

/** Resends (4 at a time) every request still without a 2xx until each gets one, or the deadline passes. */
export const settle = async (port: number, ledger: Ledger, deadlineMs: number): Promise<void> => {
  const until = Date.now() + deadlineMs;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      const events = ledger.takeUnresolved();
      if (!events) return;
      const acked = ledger.acked.size;
      await send(port, ledger, events.length === 1 ? "single" : "json", events);
      // Refused again (the request went back in the queue): the system is not ready yet, wait a little.
      if (ledger.acked.size === acked) await Bun.sleep(500);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
};
