// tails: 1,000 live tails open on one gateway (`--role all` on PostgreSQL, in-process bus) while events arrive:
// uncached page-query latency with them open, against the same queries with none open, in the same run.

import { decodeCursor, encodeCursor } from "../../src/domain/cursor.ts";
import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { generateArray, inputOf, PAGE_SOURCE, SOURCES } from "../lib/data.ts";
import { cpuSeconds, startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import { createDatabase, dbUrl, dropDatabase, runId } from "../lib/services.ts";
import { openRawTail, type RawTail } from "../lib/sse-raw.ts";
import { summarize } from "../lib/stats.ts";

const API = "/gateway/api/query";
const LEVELS = ["ERROR", "WARN", "INFO", "DEBUG", "FATAL"];
const JSON_TYPE = { "content-type": "application/json" };

interface Listing {
  totalElements: number;
  nextCursor: string;
}

const until = async (check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> => {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(50)) if (await check()) return;
  throw new Error(`timed out waiting for ${what}`);
};

/** Posts one batch; a 503 (the bus is full while the store catches up) is retried after its Retry-After. */
const post = async (producer: string, body: string): Promise<void> => {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`${producer}/batch`, { method: "POST", body, headers: JSON_TYPE });
    if (r.status === 200) return void (await r.body?.cancel());
    const text = await r.text();
    if (r.status !== 503 || attempt >= 30) throw new Error(`batch answered ${r.status}: ${text}`);
    await Bun.sleep(1000 * Number(r.headers.get("retry-after") ?? 1));
  }
};

/** Posts `batch` fresh events every 100 ms until stopped (fresh ids: the store would drop repeats). */
const ingestLoop = (producer: string, batch: number, seed: number) => {
  let on = true;
  let sent = 0;
  const loop = (async () => {
    for (let i = 0; on; i++) {
      const body = JSON.stringify(generateArray({ count: batch, seed: seed + i }).map(inputOf));
      await post(producer, body);
      sent += batch;
      await Bun.sleep(100);
    }
  })();
  return {
    stop: async (): Promise<number> => {
      on = false;
      await loop;
      return sent;
    },
  };
};

/** Sequential timed GETs of each path in turn (after a warm-up); latencies in ms. */
const timePages = async (base: string, paths: string[], n: number): Promise<number[]> => {
  for (const p of paths) await fetch(`${base}${p}`).then((r) => r.text());
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const path = paths[i % paths.length] as string;
    const t = performance.now();
    const r = await fetch(`${base}${path}`);
    await r.text();
    if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
    out.push(performance.now() - t);
  }
  return out;
};

const gauge = async (metricsUrl: string, name: string): Promise<number> => {
  const text = await fetch(metricsUrl).then((r) => r.text());
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
};

export const tails = async (opts: BenchOptions) => {
  const res = new ResultBuilder("tails", opts);
  const streams = opts.tiny ? 100 : 1000;
  const filters = opts.tiny ? 10 : 50;
  const preload = opts.tiny ? 5_000 : 50_000;
  const n = opts.tiny ? 40 : 400;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 2);
  const batch = 50;
  Object.assign(res.params, {
    streams,
    filters,
    preload,
    samplesPerPhase: n,
    rounds,
    ingestEventsPerS: batch * 10,
  });
  const db = `logproc_bench_tails_${runId()}`;
  await createDatabase(db);
  const all = startRole("all", {
    POSTGRES_URL: dbUrl(db),
    CACHE_TTL_MS: "0",
    CACHE_LIVE_TTL_MS: "0",
    MAX_TAIL_STREAMS: String(streams),
    MAX_TAIL_STREAMS_PER_CLIENT: String(streams),
  });
  const gw = `http://127.0.0.1:${all.ports.gateway}${API}`;
  const pr = `http://127.0.0.1:${all.ports.producer}/producer/api/logs`;
  const metricsUrl = `http://127.0.0.1:${all.ports.gateway}/metrics`;
  const lat = { none: [] as number[][], open: [] as number[][] };
  const cpu = { none: [] as number[], open: [] as number[] };
  try {
    await Promise.all([waitFor(`${gw}/health`, 60_000, all), waitFor(`${pr}/health`, 60_000, all)]);
    const pre = phase("tails: preload", preload, "events");
    for (let i = 0; i < preload / 1000; i++) {
      const body = JSON.stringify(generateArray({ count: 1000, seed: 1 + i }).map(inputOf));
      await post(pr, body);
      pre.tick(1000);
    }
    const first = async () => (await fetch(`${gw}/logs?size=1`).then((r) => r.json())) as Listing;
    await until(async () => (await first()).totalElements >= preload, 120_000, "the preload to be stored");
    pre.done();
    const paths = [
      `/logs?level=ERROR&source=${PAGE_SOURCE}&size=50`,
      `/logs?source=${SOURCES[0]}&size=50`,
      "/logs?level=WARN&size=50",
    ];
    // A listing's nextCursor carries its snapshot: the watermark the resumed tails start behind.
    const watermark = decodeCursor((await first()).nextCursor)?.seq ?? 0;

    const measure = async (kind: "none" | "open", r: number): Promise<void> => {
      const ingest = ingestLoop(pr, batch, 1_000_000 * (r + 1) + (kind === "open" ? 500_000 : 0));
      const c0 = cpuSeconds(all.pid);
      const t0 = performance.now();
      lat[kind].push(await timePages(gw, paths, n));
      cpu[kind].push((cpuSeconds(all.pid) - c0) / ((performance.now() - t0) / 1000));
      await ingest.stop();
    };

    for (let r = 0; r < rounds; r++) {
      const p = phase(`tails ${r + 1}/${rounds}: ${streams} streams`, 3, "phases");
      await measure("none", r);
      p.tick();
      const open: RawTail[] = [];
      for (let i = 0; i < streams; i++) {
        const f = i % filters;
        const query = `level=${LEVELS[f % LEVELS.length]}&source=${SOURCES[Math.floor(f / LEVELS.length) % SOURCES.length]}`;
        // One in ten resumes from well behind: those catch up on their own before joining their poller.
        const resume: Record<string, string> =
          i % 10 === 0
            ? { "Last-Event-ID": encodeCursor({ ts: 0, id: "x", seq: Math.max(0, watermark - 5_000) }) }
            : {};
        open.push(await openRawTail(all.ports.gateway, `${API}/tail?${query}`, resume));
      }
      await until(() => open.every((t) => t.ready()), 60_000, "every tail to be ready");
      const over = await fetch(`${gw}/tail`);
      await over.body?.cancel();
      res.params.overCapStatus = over.status;
      res.params.tailClients = await gauge(metricsUrl, "tail_clients");
      res.params.tailPollers = await gauge(metricsUrl, "tail_pollers");
      p.tick();
      await measure("open", r);
      res.params.framesDelivered = open.reduce((s, t) => s + t.frames(), 0);
      res.params.tailsWithFrames = open.filter((t) => t.frames() > 0).length;
      const resumed = open.filter((_, i) => i % 10 === 0);
      res.params.resumedTails = resumed.length;
      res.params.resumedWithFrames = resumed.filter((t) => t.frames() > 0).length;
      for (const t of open) t.close();
      await until(async () => (await gauge(metricsUrl, "tail_clients")) === 0, 30_000, "the tails to close");
      p.done();
    }
  } finally {
    res.rss("all (PostgreSQL)", (await all.stop()).peakRssBytes);
    await dropDatabase(db);
  }
  const none = summarize(lat.none.flat());
  const open = summarize(lat.open.flat());
  const p99s = (k: "none" | "open") => lat[k].map((xs) => summarize(xs).p99);
  res.comparisons.push(
    compare({
      name: `page query p99 with ${streams} tails open`,
      unit: "ms",
      better: "lower",
      referenceName: "the same queries with no tail open",
      rounds: { ours: p99s("open"), reference: p99s("none") },
    }),
    compare({
      name: `gateway CPU (cores) with ${streams} tails open`,
      unit: "cores",
      better: "lower",
      referenceName: "no tail open",
      rounds: { ours: cpu.open, reference: cpu.none },
    }),
  );
  res.figures.push(
    figure({ name: `page query p99, ${streams} tails open`, unit: "ms", value: open.p99, goalMax: 50 }),
    figure({ name: `page query p50, ${streams} tails open`, unit: "ms", value: open.p50 }),
    figure({ name: "page query p99, no tail open", unit: "ms", value: none.p99 }),
    figure({ name: "page query p50, no tail open", unit: "ms", value: none.p50 }),
  );
  res.notes.push(
    `Both phases ingest ${batch * 10} events/s; queries are uncached (CACHE_TTL_MS=0) so each reads PostgreSQL. The tails use ${filters} distinct filters; one in ten resumes 5,000 events back.`,
  );
  note(`tails: p99 ${open.p99} ms with ${streams} tails vs ${none.p99} ms without`);
  return res.build();
};
