// The benchmark harness end to end at a tiny size: every scenario runs, writes its result file, summary and chart.
// Structure and sane values only — never timings (the machines are shared and noisy).

import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ScenarioResult } from "../../bench/lib/results.ts";

setDefaultTimeout(240_000);

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const SCENARIOS = ["ingest", "sink", "e2e", "query", "embedded", "legacy", "tails", "hostile"] as const;
const out = mkdtempSync(join(tmpdir(), "logproc-bench-tiny-"));
let exitCode = -1;
let log = "";

beforeAll(async () => {
  const proc = Bun.spawn([BUN, "bench/run.ts", "all", "--tiny", "--out", out], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
  });
  const [o, e, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  exitCode = code;
  log = `${o}\n${e}`;
});

const read = (name: string): ScenarioResult =>
  JSON.parse(readFileSync(join(out, `${name}.json`), "utf8")) as ScenarioResult;

describe("npm run bench -- all --tiny", () => {
  test("every scenario completes and the run exits 0", () => {
    if (exitCode !== 0) console.error(log.slice(-6000));
    expect(exitCode).toBe(0);
  });

  test("writes the results into the directory it was given, never bench/results", () => {
    for (const s of SCENARIOS) expect(existsSync(join(out, `${s}.json`))).toBe(true);
    expect(out.startsWith(join(ROOT, "bench/results"))).toBe(false);
  });

  for (const name of SCENARIOS)
    test(`${name}: the result has its structure, a machine, and sane values`, () => {
      const r = read(name);
      expect(r.scenario).toBe(name);
      expect(r.tiny).toBe(true);
      expect(r.machine.nproc).toBeGreaterThan(0);
      expect(r.command).toContain("--tiny");
      for (const c of r.comparisons) {
        expect(c.ours).toBeGreaterThan(0);
        expect(c.reference).toBeGreaterThan(0);
        expect(c.ratio).toBeGreaterThan(0);
        expect(c.rounds.ours.length).toBeGreaterThan(0);
        expect(c.rounds.reference.length).toBeGreaterThan(0);
        if (c.goal !== undefined) expect(typeof c.goalMet).toBe("boolean");
      }
      for (const f of r.figures) expect(Number.isFinite(f.value)).toBe(true);
      expect(Object.keys(r.peakRss).length).toBeGreaterThan(0);
      for (const bytes of Object.values(r.peakRss)) expect(bytes).toBeGreaterThan(1024 * 1024);
    });

  test("counts match: what was sent is what was stored", () => {
    const ingest = read("ingest");
    expect(ingest.params.countOursInTopic).toBe(ingest.params.countOursSent);
    for (const s of ["sink", "legacy", "embedded", "e2e"]) expect(read(s).params.countsMatch).toBe(true);
    const query = read("query");
    expect(query.scale).toBeGreaterThan(0);
    expect(query.params.rows).toBeGreaterThan(0);
    expect(query.params.pageRows).toBeGreaterThan(0);
  });

  test("every scenario with a reference reports a ratio; query reports its uncached p99 figures", () => {
    for (const s of ["ingest", "sink", "query", "embedded", "legacy"])
      expect(read(s).comparisons.length).toBeGreaterThan(0);
    expect(read("sink").comparisons.map((c) => c.referenceName)).toContain(
      "psql \\copy into a table of the same columns, no index",
    );
    const names = read("query").figures.map((f) => f.name);
    for (const k of ["page", "keyset", "search rare", "search common", "search three", "stats"])
      expect(names.some((n) => n.startsWith(`uncached ${k}`) && n.endsWith("p99"))).toBe(true);
  });

  test("writes a Markdown summary and an SVG chart of the ratios with goal lines", () => {
    const md = readFileSync(join(out, "summary.md"), "utf8");
    for (const s of SCENARIOS) expect(md).toContain(`## ${s}`);
    const svg = readFileSync(join(out, "chart.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("stroke-dasharray");
    expect((svg.match(/<rect /g) ?? []).length).toBeGreaterThan(5);
  });
});
