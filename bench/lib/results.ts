// Result files: <scenario>.json per scenario, then summary.md and chart.svg rebuilt from every result in the directory.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chartSvg } from "./chart.ts";
import type { Machine } from "./machine.ts";
import { round, roundFigure } from "./stats.ts";

/** Ours against a reference measured in the same run: medians over the rounds and their ratio. */
export interface Comparison {
  name: string;
  unit: string;
  /** "higher": ratio = ours / reference; "lower" (latencies): ratio = reference / ours. Either way > 1 is ours ahead. */
  better: "higher" | "lower";
  ours: number;
  reference: number;
  referenceName: string;
  ratio: number;
  /** The goal for the ratio, when there is one. */
  goal?: number;
  goalMet?: boolean;
  rounds: { ours: number[]; reference: number[] };
  /** Per-round ratios (ours and reference measured back to back): steadier than the ratio of medians when the machine drifts. */
  pairedRatios?: number[];
}

/** A figure with no reference, with an optional absolute goal (e.g. p99 ≤ 20 ms). */
export interface Figure {
  name: string;
  unit: string;
  value: number;
  goalMax?: number;
  goalMin?: number;
  goalMet?: boolean;
  detail?: Record<string, number | string>;
}

export interface ScenarioResult {
  scenario: string;
  tiny: boolean;
  scale?: number;
  startedAt: string;
  durationS: number;
  machine: Machine;
  command: string;
  params: Record<string, number | string | boolean>;
  comparisons: Comparison[];
  figures: Figure[];
  /** Peak RSS (VmHWM) of each spawned process, bytes (the largest over the rounds). */
  peakRss: Record<string, number>;
  notes: string[];
}

export const compare = (
  c: Omit<Comparison, "ours" | "reference" | "ratio" | "goalMet"> & { goal?: number },
): Comparison => {
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? (s[Math.floor((s.length - 1) / 2)] as number) : Number.NaN;
  };
  const ours = med(c.rounds.ours);
  const reference = med(c.rounds.reference);
  const ratio = round(c.better === "higher" ? ours / reference : reference / ours, 3);
  const paired =
    c.rounds.ours.length === c.rounds.reference.length && c.rounds.ours.length > 1
      ? c.rounds.ours.map((o, i) => {
          const r = c.rounds.reference[i] as number;
          return round(c.better === "higher" ? o / r : r / o, 3);
        })
      : undefined;
  return {
    ...c,
    ...(paired ? { pairedRatios: paired } : {}),
    ours: roundFigure(ours),
    reference: roundFigure(reference),
    ratio,
    ...(c.goal !== undefined ? { goalMet: ratio >= c.goal } : {}),
  };
};

export const figure = (f: Omit<Figure, "goalMet">): Figure => ({
  ...f,
  value: round(f.value),
  ...(f.goalMax !== undefined || f.goalMin !== undefined
    ? {
        goalMet:
          (f.goalMax === undefined || f.value <= f.goalMax) &&
          (f.goalMin === undefined || f.value >= f.goalMin),
      }
    : {}),
});

const fmt = (x: number): string =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 1000
      ? Math.round(x).toLocaleString("en-US")
      : String(round(x, 2));
const mib = (b: number): string => (Number.isFinite(b) ? `${Math.round(b / 2 ** 20)} MiB` : "n/a");
const met = (m: boolean | undefined): string => (m === undefined ? "" : m ? "✅" : "❌");

export const markdown = (results: ScenarioResult[]): string => {
  const out: string[] = ["# Benchmark summary", ""];
  const first = results[0];
  if (first)
    out.push(
      `Machine: ${first.machine.nproc} cores (${first.machine.cpu}), ${first.machine.memGiB} GiB RAM, Linux ${first.machine.kernel}, Bun ${first.machine.bun}. Shared and noisy: compare ratios, not absolute figures.`,
      "",
    );
  for (const r of results) {
    out.push(
      `## ${r.scenario}${r.tiny ? " (tiny)" : ""}${r.scale !== undefined ? ` — scale ${r.scale}` : ""}`,
      "",
      `${r.startedAt}, ${fmt(r.durationS)} s — \`${r.command}\``,
      "",
    );
    if (r.comparisons.length) {
      out.push(
        "| measure | ours (median) | reference (median) | ratio | per-round ratios | goal |",
        "|---|---:|---:|---:|---:|:--|",
      );
      for (const c of r.comparisons)
        out.push(
          `| ${c.name} | ${fmt(c.ours)} ${c.unit} | ${fmt(c.reference)} ${c.unit} (${c.referenceName}) | ${c.ratio} | ${c.pairedRatios?.join(", ") ?? ""} | ${c.goal !== undefined ? `≥ ${c.goal} ${met(c.goalMet)}` : ""} |`,
        );
      out.push("");
    }
    if (r.figures.length) {
      out.push("| figure | value | goal |", "|---|---:|:--|");
      for (const f of r.figures) {
        const goal =
          f.goalMax !== undefined
            ? `≤ ${f.goalMax} ${met(f.goalMet)}`
            : f.goalMin !== undefined
              ? `≥ ${f.goalMin} ${met(f.goalMet)}`
              : "";
        out.push(`| ${f.name} | ${fmt(f.value)} ${f.unit} | ${goal} |`);
      }
      out.push("");
    }
    const rss = Object.entries(r.peakRss);
    if (rss.length) out.push(`Peak RSS: ${rss.map(([k, v]) => `${k} ${mib(v)}`).join(", ")}.`, "");
    if (r.notes.length) out.push(...r.notes.map((n) => `- ${n}`), "");
  }
  return `${out.join("\n")}\n`;
};

const ORDER = [
  "ingest",
  "sink",
  "e2e",
  "query",
  "embedded",
  "legacy",
  "protocols",
  "tails",
  "hostile",
  "soak",
];

export const readResults = (dir: string): ScenarioResult[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as ScenarioResult)
    .filter((r) => typeof r.scenario === "string" && Array.isArray(r.comparisons))
    .sort((a, b) => ORDER.indexOf(a.scenario) - ORDER.indexOf(b.scenario));

/** Writes <scenario>.json, then rebuilds summary.md and chart.svg from all results in the directory. */
export const writeResult = (dir: string, result: ScenarioResult): string => {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.scenario}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  const all = readResults(dir);
  writeFileSync(join(dir, "summary.md"), markdown(all));
  writeFileSync(join(dir, "chart.svg"), chartSvg(all));
  return file;
};
