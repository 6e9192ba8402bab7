// embedded: `logproc --role all` with nothing configured (in-process bus, bun:sqlite, in-memory cache): ingest
// events/s over HTTP and query latency, against bare bun:sqlite inserts of the same rows (same schema, indexes, FTS).

import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQLITE_SCHEMA } from "../../src/adapters/store/sqlite-schema.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { generateArray, inputOf, PAGE_SOURCE, WORDS } from "../lib/data.ts";
import { closedLoop } from "../lib/load.ts";
import { startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare } from "../lib/results.ts";
import { median } from "../lib/stats.ts";

const BATCH = 1000;
const TX_ROWS = 10_000;

/** Bare bun:sqlite: the product's schema, the same rows, prepared INSERTs (+ FTS) in 10,000-row transactions. */
const bareInsert = (file: string, events: LogEvent[]): { seconds: number; db: Database } => {
  const db = new Database(file, { create: true, strict: true });
  db.exec(SQLITE_SCHEMA);
  const ins = db.query(
    `INSERT INTO log_events (id, level, source, message, ts, metadata, created_at, bus_partition, bus_offset)
     VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
  );
  const fts = db.query("INSERT INTO log_fts (rowid, message) VALUES (last_insert_rowid(), ?)");
  const t = performance.now();
  const tx = db.transaction((rows: LogEvent[], base: number) => {
    const now = Date.now();
    rows.forEach((e, i) => {
      ins.run(
        e.id,
        e.level,
        e.source,
        e.message,
        e.timestamp,
        e.metadata === null ? null : JSON.stringify(e.metadata),
        now,
        String(base + i),
      );
      fts.run(e.message);
    });
  });
  for (let i = 0; i < events.length; i += TX_ROWS) tx(events.slice(i, i + TX_ROWS), i);
  return { seconds: (performance.now() - t) / 1000, db };
};

const timeIt = (n: number, f: () => unknown): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    out.push(performance.now() - t);
  }
  return out;
};

export const embedded = async (opts: BenchOptions) => {
  const res = new ResultBuilder("embedded", opts);
  const events = opts.tiny ? 3 * BATCH : 200 * BATCH;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 2);
  const n = opts.tiny ? 10 : 100;
  Object.assign(res.params, {
    events,
    rounds,
    batchEvents: BATCH,
    bareTransactionRows: TX_ROWS,
    querySamples: n,
  });
  const gen = phase("embedded: generating events", events, "events");
  const data = generateArray({ count: events, seed: 51 });
  gen.done();
  const bodies: string[] = [];
  for (let i = 0; i < data.length; i += BATCH)
    bodies.push(JSON.stringify(data.slice(i, i + BATCH).map(inputOf)));
  const end = (data[data.length - 1]?.timestamp ?? Date.now()) + 1;
  const window = `startTime=${end - 24 * 3_600_000}&endTime=${end}`;
  const queries = {
    page: `/logs?level=ERROR&source=${PAGE_SOURCE}&${window}&size=50`,
    rare: `/search?query=${WORDS.rare}&${window}&size=50`,
    common: `/search?query=${WORDS.common}&${window}&size=50`,
  };
  const ours = { rate: [] as number[], page: [] as number[], rare: [] as number[], common: [] as number[] };
  const ref = { rate: [] as number[], page: [] as number[], rare: [] as number[], common: [] as number[] };
  let countsMatch = true;

  for (let r = 0; r < rounds; r++) {
    const dir = mkdtempSync(join(tmpdir(), "logproc-bench-embedded-"));
    try {
      const all = startRole("all", {
        DATA_DIR: join(dir, "ours"),
        CACHE_TTL_MS: "0",
        CACHE_LIVE_TTL_MS: "0",
      });
      try {
        const gw = `http://127.0.0.1:${all.ports.gateway}/gateway/api/query`;
        const pr = `http://127.0.0.1:${all.ports.producer}/producer/api/logs`;
        await Promise.all([waitFor(`${gw}/health`, 60_000, all), waitFor(`${pr}/health`, 60_000, all)]);
        const file = join(dir, "ours", "logproc.sqlite");
        const p = phase(`embedded ${r + 1}/${rounds}: --role all ingest`, events, "events");
        const t = performance.now();
        const out = await closedLoop(bodies.length, 4, async (i) => {
          const resp = await fetch(`${pr}/batch`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: bodies[i] ?? "[]",
          });
          const body = (await resp.json()) as { successCount?: number };
          if (resp.status !== 200 || body.successCount !== BATCH)
            throw new Error(`batch answered ${resp.status}`);
          p.tick(BATCH);
        });
        if (out.failures) throw new Error(`${out.failures} batches failed: ${out.firstError}`);
        // Accepted is not stored: wait for the rows (read-only peek at the WAL database).
        const peek = new Database(file, { readonly: true });
        let stored = 0;
        for (const until = Date.now() + 300_000; Date.now() < until; await Bun.sleep(50)) {
          stored = peek.query<{ n: number }, []>("SELECT count(*) AS n FROM log_events").get()?.n ?? 0;
          if (stored >= events) break;
        }
        peek.close();
        p.done();
        countsMatch &&= stored === events;
        ours.rate.push(events / ((performance.now() - t) / 1000));
        if (r === rounds - 1) {
          for (const [k, q] of Object.entries(queries) as [keyof typeof queries, string][]) {
            for (let i = 0; i < 3; i++) await fetch(`${gw}${q}`).then((x) => x.text());
            for (let i = 0; i < n; i++) {
              const t0 = performance.now();
              const resp = await fetch(`${gw}${q}`);
              await resp.text();
              if (resp.status !== 200) throw new Error(`${q} answered ${resp.status}`);
              ours[k].push(performance.now() - t0);
            }
          }
        }
      } finally {
        res.rss("all (embedded)", (await all.stop()).peakRssBytes);
      }

      const p = phase(`embedded ${r + 1}/${rounds}: bare bun:sqlite`, 1, "runs");
      const bare = bareInsert(join(dir, "bare.sqlite"), data);
      p.done();
      ref.rate.push(events / bare.seconds);
      if (r === rounds - 1) {
        const start = end - 24 * 3_600_000;
        const page = bare.db.query(
          `SELECT seq, id, level, source, message, ts, metadata, created_at FROM log_events
           WHERE source = ? AND level = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC, id DESC LIMIT 51`,
        );
        const search = bare.db.query(
          `SELECT e.seq, e.id, e.level, e.source, e.message, e.ts, e.metadata, e.created_at FROM log_fts f
           JOIN log_events e ON e.seq = f.rowid WHERE log_fts MATCH ? AND e.ts >= ? AND e.ts <= ?
           ORDER BY e.ts DESC, e.id DESC LIMIT 51`,
        );
        ref.page.push(...timeIt(n, () => page.all(PAGE_SOURCE, "ERROR", start, end)));
        ref.rare.push(...timeIt(n, () => search.all(WORDS.rare, start, end)));
        ref.common.push(...timeIt(n, () => search.all(WORDS.common, start, end)));
      }
      bare.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  res.params.countsMatch = countsMatch;
  res.comparisons.push(
    compare({
      name: "embedded ingest events/s (HTTP → SQLite)",
      unit: "events/s",
      better: "higher",
      referenceName: "bare bun:sqlite INSERT + FTS, same rows",
      rounds: { ours: ours.rate, reference: ref.rate },
    }),
  );
  for (const k of ["page", "rare", "common"] as const)
    res.comparisons.push(
      compare({
        name: `embedded ${k === "page" ? "page (level+source)" : `search ${k} word`} p50 latency`,
        unit: "ms",
        better: "lower",
        referenceName: "the same SQL on bare bun:sqlite, in process",
        rounds: { ours: [median(ours[k])], reference: [median(ref[k])] },
      }),
    );
  res.notes.push(
    "Latencies: ours over HTTP through the gateway (parse, count, JSON); the reference is the bare SQL in process, so the ratio includes the HTTP round trip.",
  );
  note(`embedded: ours ${res.comparisons[0]?.ours} ev/s vs bare ${res.comparisons[0]?.reference} ev/s`);
  return res.build();
};
