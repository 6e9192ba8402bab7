// embedded: `logproc --role all` with nothing configured (in-process bus, bun:sqlite, in-memory cache) at 1M
// events — ingest events/s against bare bun:sqlite doing the writer's work, disk bytes per event, peak RSS,
// uncached query latency (p50/p99), and whether reads hold up writes: ingest latency and event-loop stall
// with and without a query loop running. Every figure of issue 18 beside its goal, in one run.

import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { generate, inputOf, PAGE_SOURCE, WORDS } from "../lib/data.ts";
import { bareInsert, fileBytes } from "../lib/embedded-bare.ts";
import { getJson, ingest, metricValue, queryLoop, watchStall } from "../lib/embedded-probe.ts";
import { startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import { percentile, summarize } from "../lib/stats.ts";

const HOUR = 3_600_000;
const CLIENTS = 4;

const batches = function* (seed: number, count: number, size: number, start: number, end: number) {
  let batch: LogEvent[] = [];
  for (const e of generate({ seed, count, start, end })) {
    batch.push(e);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
};

const bodiesOf = (seed: number, count: number, size: number, start: number, end: number): string[] =>
  [...batches(seed, count, size, start, end)].map((b) => JSON.stringify(b.map(inputOf)));

export const embedded = async (opts: BenchOptions) => {
  const res = new ResultBuilder("embedded", opts);
  const events = opts.tiny ? 4_000 : 1_000_000;
  const batch = opts.tiny ? 200 : 1_000;
  const contended = opts.tiny ? 2_000 : 200_000;
  const n = opts.tiny ? 20 : 100;
  Object.assign(res.params, { events, batchEvents: batch, clients: CLIENTS, contendedEvents: contended });
  Object.assign(res.params, { querySamples: n });

  const end = Date.now();
  const start = end - 24 * HOUR;
  const gen = phase("embedded: generating events", events, "events");
  const bodies = bodiesOf(51, events, batch, start, end);
  const recent = (seed: number) => bodiesOf(seed, contended, batch, Date.now() - 600_000, Date.now());
  const alone = recent(52);
  const loaded = recent(53);
  gen.done();

  const dir = mkdtempSync(join(tmpdir(), "logproc-bench-embedded-"));
  try {
    const all = startRole("all", { DATA_DIR: join(dir, "ours"), CACHE_TTL_MS: "0", CACHE_LIVE_TTL_MS: "0" });
    const file = join(dir, "ours", "logproc.sqlite");
    const stored = async (want: number): Promise<number> => {
      const peek = new Database(file, { readonly: true });
      try {
        let got = 0;
        for (const until = Date.now() + 600_000; Date.now() < until; await Bun.sleep(50)) {
          got = peek.query<{ n: number }, []>("SELECT count(*) AS n FROM log_events").get()?.n ?? 0;
          if (got >= want) break;
        }
        return got;
      } finally {
        peek.close();
      }
    };
    let oursRate = 0;
    let oursDisk = 0;
    try {
      const base = `http://127.0.0.1:${all.ports.gateway}`;
      const gw = `${base}/gateway/api/query`;
      const pr = `http://127.0.0.1:${all.ports.producer}/producer/api/logs`;
      await Promise.all([waitFor(`${gw}/health`, 60_000, all), waitFor(`${pr}/health`, 60_000, all)]);

      // 1. Load: 4 clients, HTTP batches, until every event is stored.
      const p = phase("embedded: --role all ingest", events, "events");
      const t = performance.now();
      await ingest(`${pr}/batch`, bodies, batch, CLIENTS, p);
      const count = await stored(events);
      p.done();
      oursRate = events / ((performance.now() - t) / 1000);
      oursDisk = fileBytes(file, `${file}-wal`);
      res.params.countsMatch = count === events;
      const cm = await fetch(`http://127.0.0.1:${all.ports.consumer}/metrics`).then((r) => r.text());
      const batchSum = metricValue(cm, "consumer_batch_size_sum") ?? Number.NaN;
      const batchCount = metricValue(cm, "consumer_batch_size_count") ?? Number.NaN;
      res.params.consumerMeanBatch = Math.round(batchSum / batchCount);

      // 2. Uncached queries over HTTP; every request varies endTime by 1 ms and the cache is off (TTL 0),
      // and the cache hit counter proves no answer came from the cache.
      const win = (i: number) => `startTime=${start}&endTime=${end + i}&size=50`;
      const search = (q: string) => (i: number) => `${gw}/search?query=${encodeURIComponent(q)}&${win(i)}`;
      const kinds: [string, (i: number) => string, number][] = [
        ["search common word", search(WORDS.common), 50],
        ["search three words", search(`${WORDS.common} ${WORDS.second} ${WORDS.third}`), 50],
        ["search rare word", search(WORDS.rare), 20],
        ["page (level+source)", (i) => `${gw}/logs?level=ERROR&source=${PAGE_SOURCE}&${win(i)}`, 20],
        ["stats (24 h)", () => `${gw}/stats?hoursBack=24`, 20],
      ];
      const hits = async () =>
        metricValue(
          await fetch(`${base}/metrics`).then((r) => r.text()),
          "cache_requests_total",
          '{result="hit"}',
        ) ?? 0;
      const hits0 = await hits();
      const q = phase("embedded: uncached queries", kinds.length * n, "requests");
      for (const [name, url, goal] of kinds) {
        const body = (await getJson(url(-1))) as {
          content?: unknown[];
          totalElements?: number;
          totalLogs?: number;
        };
        res.params[`rows_${name.replaceAll(/\W+/g, "_")}`] = body.content?.length ?? body.totalLogs ?? 0;
        for (let i = 0; i < 3; i++) await getJson(url(-2 - i));
        const ms: number[] = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          await getJson(url(i));
          ms.push(performance.now() - t0);
          q.tick();
        }
        const s = summarize(ms);
        res.figures.push(
          figure({ name: `uncached ${name} p50`, unit: "ms", value: s.p50 }),
          figure({ name: `uncached ${name} p99`, unit: "ms", value: s.p99, goalMax: goal, detail: { ...s } }),
        );
      }
      q.done();
      res.params.cacheHitsDuringQueries = (await hits()) - hits0;
      if (res.params.cacheHitsDuringQueries !== 0)
        throw new Error("uncached queries were answered from the cache");

      // 3. Reads never block writes: the same ingest without, then with, a query loop beside it.
      const contend = async (label: string, data: string[], withQueries: boolean) => {
        const c = phase(`embedded: ingest ${label}`, contended, "events");
        const stopStall = watchStall(`${base}/metrics`, `${pr}/health`);
        const stopQueries = withQueries ? queryLoop(kinds.map(([k, u]) => [k, u])) : undefined;
        const out = await ingest(`${pr}/batch`, data, batch, CLIENTS, c);
        const queries = await stopQueries?.();
        const stall = await stopStall();
        c.done();
        return { latency: summarize(out.latencies), stall, queries };
      };
      const idleStall = watchStall(`${base}/metrics`, `${pr}/health`);
      await Bun.sleep(opts.tiny ? 1_000 : 3_000);
      const idle = await idleStall();
      const before = await contend("alone", alone, false);
      const during = await contend("beside a query loop", loaded, true);
      res.params.countsMatch &&= (await stored(events + 2 * contended)) === events + 2 * contended;
      const l0 = before.latency;
      const l1 = during.latency;
      res.figures.push(
        figure({ name: "ingest request p50, alone", unit: "ms", value: l0.p50, detail: { ...l0 } }),
        figure({ name: "ingest request p50, beside queries", unit: "ms", value: l1.p50, detail: { ...l1 } }),
        figure({ name: "ingest request p99 increase beside queries", unit: "ms", value: l1.p99 - l0.p99 }),
        figure({
          name: "ingest request max increase beside queries",
          unit: "ms",
          value: l1.max - l0.max,
          goalMax: 100,
          detail: { alone: l0.max, besideQueries: l1.max },
        }),
        figure({
          name: "event-loop stall (lag max), ingest alone",
          unit: "ms",
          value: before.stall.lagMaxMs,
        }),
        figure({
          name: "event-loop stall (lag max), ingest beside queries",
          unit: "ms",
          value: during.stall.lagMaxMs,
          goalMax: 50,
          detail: { scrapes: during.stall.scrapes },
        }),
        figure({
          name: "bench client's own event-loop lag max, same phase (scheduler noise)",
          unit: "ms",
          value: during.stall.selfLagMaxMs,
          detail: { ingestAlone: before.stall.selfLagMaxMs },
        }),
      );
      const idleMedian = percentile(idle.health, 50);
      for (const [label, s] of [
        ["alone", before.stall],
        ["beside queries", during.stall],
      ] as const)
        res.figures.push(
          figure({
            name: `health poll (10 ms) worst beyond idle median, ingest ${label}`,
            unit: "ms",
            value: Math.max(...s.health) - idleMedian,
            detail: {
              polls: s.health.length,
              p50: percentile(s.health, 50),
              idleMedian,
              idleLagMaxMs: idle.lagMaxMs,
            },
          }),
        );
      for (const [k, ms] of during.queries ?? [])
        if (ms.length) res.params[`loopQueries_${k.replaceAll(/\W+/g, "_")}`] = ms.length;
    } finally {
      res.rss("logproc --role all", (await all.stop()).peakRssBytes);
    }

    // 4. The reference: the same rows into bare bun:sqlite, the writer's work, no logproc.
    const b = phase("embedded: bare bun:sqlite", events, "events");
    // Its transactions are as large as the consumer's were on average in this run (it commits what the
    // in-process bus holds, one HTTP batch or more): the same work per commit on both sides.
    const bareRows = Number(res.params.consumerMeanBatch) || batch;
    res.params.bareTransactionRows = bareRows;
    const bare = bareInsert(join(dir, "bare.sqlite"), batches(51, events, bareRows, start, end));
    b.done();
    res.comparisons.push(
      compare({
        name: "embedded ingest events/s (4 clients, HTTP → SQLite)",
        unit: "events/s",
        better: "higher",
        referenceName: "bare bun:sqlite, same rows, schema, tokens and rollups",
        goal: 0.8,
        rounds: { ours: [oursRate], reference: [events / bare.seconds] },
      }),
      compare({
        name: "embedded disk bytes per event (db + WAL)",
        unit: "B/event",
        better: "lower",
        referenceName: "bare bun:sqlite, same rows",
        rounds: { ours: [oursDisk / events], reference: [bare.diskBytes / events] },
      }),
    );
    const rss = res.peakRss["logproc --role all"];
    if (rss !== undefined)
      res.figures.push(figure({ name: "peak RSS, logproc --role all", unit: "MiB", value: rss / 2 ** 20 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  res.notes.push(
    "Query latencies are over HTTP through the gateway, uncached (CACHE_TTL_MS=0, CACHE_LIVE_TTL_MS=0, endTime varied per request, cache hits checked to be 0).",
    `The event-loop stall is logproc's own nodejs_eventloop_lag_max_seconds, scraped every 250 ms (each scrape resets it); the health poll is the same seen from outside. The reference ingest commits transactions of the consumer's mean batch in the same run (bareTransactionRows).`,
  );
  note(`embedded: ours ${res.comparisons[0]?.ours} ev/s vs bare ${res.comparisons[0]?.reference} ev/s`);
  return res.build();
};
