// query: page, keyset next page, search (rare, common, three words) and stats over 7 days of events, uncached
// and cached; cached requests/s (wrk) against a bare Bun "ok" server and a bare Bun serving the same page
// bytes in the same run, with the server CPU each request costs.

import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { PAGE_SOURCE, WORDS } from "../lib/data.ts";
import { wrk } from "../lib/load.ts";
import { BUN, cpuSeconds, freePort, ROOT, type Running, start, startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { queryData } from "../lib/query-data.ts";
import { compare, figure } from "../lib/results.ts";
import { dbUrl, REDIS_URL } from "../lib/services.ts";
import { median, summarize } from "../lib/stats.ts";

const FULL_ROWS = 10_000_000;
const HOUR = 3_600_000;
const API = "/gateway/api/query";

const get = async (url: string): Promise<unknown> => {
  const r = await fetch(url);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url} → ${r.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
};

/** Sequential timed GETs (after warm-ups); returns latencies in ms. */
const timeGets = async (url: () => string, n: number, warm = 5): Promise<number[]> => {
  for (let i = 0; i < warm; i++) await get(url());
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await get(url());
    out.push(performance.now() - t);
  }
  return out;
};

export const query = async (opts: BenchOptions) => {
  const res = new ResultBuilder("query", opts);
  const scale = opts.tiny ? 0.002 : (opts.scale ?? 1);
  const rows = Math.round(FULL_ROWS * scale);
  const db = opts.tiny ? "logproc_bench_query_tiny" : "logproc_bench_query";
  const n = opts.tiny ? 20 : 200;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 3);
  const wrkSeconds = opts.tiny ? 1 : 8;
  Object.assign(res.params, {
    rows,
    scale,
    database: db,
    samplesPerQuery: n,
    wrkRounds: rounds,
    wrkSeconds,
    wrkConnections: 64,
  });

  const data = await queryData(db, rows);
  res.params.dataReused = data.reused;
  if (data.loadSeconds !== undefined) res.params.loadSeconds = Math.round(data.loadSeconds);
  for (const [k, v] of Object.entries(data.frequencies)) res.params[`freq_${k}`] = Math.round(v * 1e6) / 1e6;

  const end = data.end;
  const window = `startTime=${end - 24 * HOUR}&endTime=${end}`;
  const week = `startTime=${end - 7 * 24 * HOUR}&endTime=${end}`;
  const hoursBack = 24 + Math.ceil(Math.max(0, Date.now() - end) / HOUR);
  res.params.statsHoursBack = hoursBack;
  if (hoursBack > 24)
    res.notes.push(
      `the data ends ${Math.round((Date.now() - end) / 60_000)} min before these queries, so stats ask hoursBack=${hoursBack} (24 h of data plus the gap).`,
    );

  const common = {
    POSTGRES_URL: dbUrl(db),
    // Reads only; migrations are already applied (the gateway checks them at start).
  };
  const uncached = startRole("gateway", { ...common, CACHE_TTL_MS: "0", CACHE_LIVE_TTL_MS: "0" });
  const cached = startRole("gateway", { ...common, REDIS_URL });
  const helloPort = freePort();
  const hello: Running = start("hello", [BUN, `${ROOT}/bench/lib/hello.ts`, String(helloPort)], {});
  try {
    const u = `http://127.0.0.1:${uncached.ports.gateway}${API}`;
    const c = `http://127.0.0.1:${cached.ports.gateway}${API}`;
    await Promise.all([
      waitFor(`${u}/health`, 60_000, uncached),
      waitFor(`${c}/health`, 60_000, cached),
      waitFor(`http://127.0.0.1:${helloPort}/`, 30_000, hello),
    ]);

    const pagePath = `/logs?level=ERROR&source=${PAGE_SOURCE}&${window}&size=50`;
    const first = (await get(`${u}${pagePath}`)) as {
      content: unknown[];
      nextCursor: string;
      totalElements: number;
    };
    res.params.pageRows = first.content.length;
    res.params.pageTotalElements = first.totalElements;
    const searches: [string, string][] = [
      ["search rare word", WORDS.rare],
      ["search common word", WORDS.common],
      ["search three words", `${WORDS.common} ${WORDS.second} ${WORDS.third}`],
    ];
    const kinds: { name: string; path: string; goal: number }[] = [
      { name: "page (24 h, level+source)", path: pagePath, goal: 20 },
      {
        name: "keyset next page",
        path: `${pagePath}&cursor=${encodeURIComponent(first.nextCursor)}`,
        goal: 20,
      },
      { name: "page (24 h, INFO)", path: `/logs?level=INFO&${window}&size=50`, goal: 20 },
      ...searches.map(([name, q]) => ({
        name,
        path: `/search?query=${encodeURIComponent(q)}&${window}&size=50`,
        goal: 150,
      })),
      // A common word under a filter, over the whole 7 days: the page and its total.
      {
        name: "search common word, 7 days, level ERROR",
        path: `/search?query=${WORDS.common}&level=ERROR&${week}&size=50`,
        goal: 150,
      },
      {
        name: "search common word, 7 days, one source",
        path: `/search?query=${WORDS.common}&source=${PAGE_SOURCE}&${week}&size=50`,
        goal: 150,
      },
      { name: "stats (24 h)", path: `/stats?hoursBack=${hoursBack}`, goal: 20 },
    ];
    for (const k of kinds) {
      const body = (await get(`${u}${k.path}`)) as {
        content?: unknown[];
        totalLogs?: number;
        totalElements?: number;
        totalElementsExact?: boolean;
      };
      const key = k.name.replaceAll(/\W+/g, "_");
      res.params[`rows_${key}`] = body.content?.length ?? body.totalLogs ?? 0;
      if (body.totalElements !== undefined)
        res.params[`total_${key}`] =
          `${body.totalElements}${body.totalElementsExact === false ? " (estimate)" : ""}`;
    }
    const p = phase("query: uncached latencies", kinds.length * 2, "query kinds");
    for (const k of kinds) {
      const lat = summarize(await timeGets(() => `${u}${k.path}`, n));
      p.tick();
      res.figures.push(
        figure({ name: `uncached ${k.name} p50`, unit: "ms", value: lat.p50 }),
        figure({ name: `uncached ${k.name} p99`, unit: "ms", value: lat.p99, goalMax: k.goal }),
      );
    }
    for (const k of kinds) {
      const lat = summarize(await timeGets(() => `${c}${k.path}`, n));
      p.tick();
      res.figures.push(
        figure({ name: `cached ${k.name} p50`, unit: "ms", value: lat.p50 }),
        figure({ name: `cached ${k.name} p99`, unit: "ms", value: lat.p99 }),
      );
    }
    p.done();

    // Four wrk runs per round, in an order that alternates between rounds: our hot page, Bun's "ok", Bun
    // answering the same page bytes, our hot one-event page. Server CPU per request comes from /proc.
    const runs = {
      ours: { rps: [] as number[], cpu: [] as number[] },
      hello: { rps: [] as number[], cpu: [] as number[] },
      same: { rps: [] as number[], cpu: [] as number[] },
      small: { rps: [] as number[], cpu: [] as number[] },
    };
    const oursP99: number[] = [];
    let non2xx = 0;
    // A second reference: the same bare server answering this very page (same bytes) instead of "ok".
    const page = await fetch(`${c}${pagePath}`).then((r) => r.text());
    await fetch(`http://127.0.0.1:${helloPort}/body`, { method: "PUT", body: page });
    res.params.cachedPageBytes = Buffer.byteLength(page);
    const smallPath = pagePath.replace("size=50", "size=1");
    res.params.smallPageBytes = Buffer.byteLength(await fetch(`${c}${smallPath}`).then((r) => r.text()));
    const targets: [keyof typeof runs, string, Running][] = [
      ["ours", `${c}${pagePath}`, cached],
      ["hello", `http://127.0.0.1:${helloPort}/`, hello],
      ["same", `http://127.0.0.1:${helloPort}/body`, hello],
      ["small", `${c}${smallPath}`, cached],
    ];
    const w = phase("query: wrk cached vs hello-world", rounds * targets.length, "runs");
    for (let r = 0; r < rounds; r++) {
      for (const [name, url, server] of r % 2 === 0 ? targets : [...targets].reverse()) {
        const cpu0 = cpuSeconds(server.pid);
        const out = await wrk(url, wrkSeconds);
        const cpu = cpuSeconds(server.pid) - cpu0;
        runs[name].rps.push(out.requestsPerS);
        runs[name].cpu.push((cpu * 1e6) / (out.requestsPerS * wrkSeconds));
        if (name === "ours" || name === "small") non2xx += out.non2xx;
        if (name === "ours") oursP99.push(out.p99Ms);
        w.tick();
      }
    }
    w.done();
    res.params.wrkNon2xx = non2xx;
    res.comparisons.push(
      compare({
        name: "cached page req/s (vs Bun hello-world)",
        unit: "req/s",
        better: "higher",
        referenceName: 'Bun.serve returning "ok"',
        goal: 0.5,
        rounds: { ours: runs.ours.rps, reference: runs.hello.rps },
      }),
      compare({
        name: "cached page req/s (vs Bun serving the same page)",
        unit: "req/s",
        better: "higher",
        referenceName: "Bun.serve returning the same bytes",
        goal: 0.8,
        rounds: { ours: runs.ours.rps, reference: runs.same.rps },
      }),
      compare({
        name: "server CPU per cached page (vs Bun serving the same page)",
        unit: "µs/request",
        better: "lower",
        referenceName: "Bun.serve returning the same bytes",
        rounds: { ours: runs.ours.cpu, reference: runs.same.cpu },
      }),
      compare({
        name: "cached one-event page req/s (vs Bun hello-world)",
        unit: "req/s",
        better: "higher",
        referenceName: 'Bun.serve returning "ok"',
        rounds: { ours: runs.small.rps, reference: runs.hello.rps },
      }),
    );
    res.figures.push(
      figure({ name: "cached page under wrk -c64: p99", unit: "ms", value: median(oursP99) }),
      figure({ name: 'server CPU per request, Bun "ok"', unit: "µs", value: median(runs.hello.cpu) }),
      figure({
        name: "server CPU per request, cached one-event page",
        unit: "µs",
        value: median(runs.small.cpu),
      }),
    );
  } finally {
    for (const [name, proc] of [
      ["gateway (uncached)", uncached],
      ["gateway (redis)", cached],
      ["hello", hello],
    ] as const) {
      const s = await proc.stop();
      res.rss(name, s.peakRssBytes);
    }
  }
  note(`query: done (scale ${scale}, ${rows} rows)`);
  return res.build(scale);
};
