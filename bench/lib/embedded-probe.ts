// Probes for the embedded scenario: ingest batches over HTTP, a query loop, and the event-loop stall of the
// logproc process seen two ways — its own `nodejs_eventloop_lag_max_seconds` (prom-client's
// monitorEventLoopDelay, reset at every scrape, so each scrape gives the worst delay since the last one) and,
// from outside, the response time of its health endpoint polled every 10 ms. The bench process's own lag over
// the same time is the reference: on a shared, overloaded machine the scheduler alone stalls any process.

import { monitorEventLoopDelay } from "node:perf_hooks";
import { closedLoop, type LoopResult } from "./load.ts";
import type { Phase } from "./progress.ts";

/** Posts the batches bodies[from..to) from `clients` workers; throws unless every event was accepted. */
export const ingest = async (
  url: string,
  bodies: readonly string[],
  perBatch: number,
  clients: number,
  p?: Phase,
): Promise<LoopResult> => {
  const out = await closedLoop(bodies.length, clients, async (i) => {
    const resp = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bodies[i] ?? "[]",
    });
    const body = (await resp.json()) as { successCount?: number };
    if (resp.status !== 200 || body.successCount !== perBatch)
      throw new Error(`batch answered ${resp.status}: ${JSON.stringify(body).slice(0, 200)}`);
    p?.tick(perBatch);
  });
  if (out.failures) throw new Error(`${out.failures} batches failed: ${out.firstError}`);
  return out;
};

/** One GET that must answer 200; returns the parsed body. */
export const getJson = async (url: string): Promise<unknown> => {
  const r = await fetch(url);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url} → ${r.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
};

/** A labelled sample of a Prometheus text exposition, or undefined when it is absent. */
export const metricValue = (text: string, name: string, labels = ""): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

export interface Stall {
  /** Worst `nodejs_eventloop_lag_max_seconds` over the scrapes after the first, ms. */
  lagMaxMs: number;
  scrapes: number;
  /** Health response times, ms. */
  health: number[];
  /** Worst event-loop delay of this (bench) process over the same time, ms. */
  selfLagMaxMs: number;
}

/** Watches the process until the returned stop() is called. */
export const watchStall = (metricsUrl: string, healthUrl: string) => {
  let running = true;
  let lagMax = 0;
  let scrapes = 0;
  const health: number[] = [];
  const self = monitorEventLoopDelay({ resolution: 10 });
  self.enable();
  const scraping = (async () => {
    while (running) {
      const text = await fetch(metricsUrl).then((r) => r.text());
      const lag = metricValue(text, "nodejs_eventloop_lag_max_seconds");
      // The first scrape covers the time before the watch began: it only resets the histogram.
      if (scrapes > 0 && lag !== undefined && Number.isFinite(lag)) lagMax = Math.max(lagMax, lag * 1000);
      scrapes++;
      await Bun.sleep(250);
    }
  })();
  const polling = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(healthUrl).then((r) => r.arrayBuffer());
      const ms = performance.now() - t;
      health.push(ms);
      if (ms < 10) await Bun.sleep(10 - ms);
    }
  })();
  return async (): Promise<Stall> => {
    running = false;
    await Promise.all([scraping, polling]);
    self.disable();
    return { lagMaxMs: lagMax, scrapes: scrapes - 1, health, selfLagMaxMs: self.max / 1e6 };
  };
};

/** Runs the query URLs round-robin from one client until stop() is called; latencies by query name. */
export const queryLoop = (urls: readonly [string, (i: number) => string][]) => {
  let running = true;
  const latencies = new Map<string, number[]>(urls.map(([name]) => [name, []]));
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const [name, url] = urls[i % urls.length] ?? urls[0] ?? ["none", () => ""];
      const t = performance.now();
      await getJson(url(i));
      latencies.get(name)?.push(performance.now() - t);
    }
  })();
  return async (): Promise<Map<string, number[]>> => {
    running = false;
    await loop;
    return latencies;
  };
};
