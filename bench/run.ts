// Benchmark entry: npm run bench -- <scenario|all> [--tiny] [--scale x] [--rounds n] [--minutes n] [--consumers n] [--out dir]

import { resolve } from "node:path";
import { createLogger } from "../src/observability/logger.ts";
import { logWarnings } from "../src/observability/warnings.ts";
import type { BenchOptions, Scenario } from "./lib/context.ts";
import { retryOnOutage } from "./lib/outage.ts";
import { note } from "./lib/progress.ts";
import { writeResult } from "./lib/results.ts";
import { e2e } from "./scenarios/e2e.ts";
import { embedded } from "./scenarios/embedded.ts";
import { hostile } from "./scenarios/hostile.ts";
import { ingest } from "./scenarios/ingest.ts";
import { legacy } from "./scenarios/legacy.ts";
import { protocols } from "./scenarios/protocols.ts";
import { query } from "./scenarios/query.ts";
import { sink } from "./scenarios/sink.ts";
import { soak } from "./scenarios/soak.ts";
import { tails } from "./scenarios/tails.ts";

/** The performance scenarios: what `all` runs. */
export const PERFORMANCE: Record<string, Scenario> = {
  ingest,
  sink,
  e2e,
  query,
  embedded,
  legacy,
  tails,
  protocols,
  hostile,
};
/** soak is a reliability check of its own (minutes of faults), run only when named. */
export const SCENARIOS: Record<string, Scenario> = { ...PERFORMANCE, soak };

const USAGE = `usage: bun bench/run.ts <${Object.keys(SCENARIOS).join("|")}|all> [--tiny] [--scale x] [--rounds n] [--minutes n] [--consumers n] [--out dir]`;

const parse = (argv: string[]) => {
  const names: string[] = [];
  let tiny = false;
  let scale: number | undefined;
  let rounds: number | undefined;
  let minutes: number | undefined;
  let consumers: number | undefined;
  let out = resolve(import.meta.dir, "results");
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--tiny") tiny = true;
    else if (a === "--scale") scale = Number(value());
    else if (a === "--rounds") rounds = Number(value());
    else if (a === "--minutes") minutes = Number(value());
    else if (a === "--consumers") consumers = Number(value());
    else if (a === "--out") out = resolve(value());
    else if (a === "all") names.push(...Object.keys(PERFORMANCE));
    else if (a in SCENARIOS) names.push(a);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!names.length) throw new Error(USAGE);
  if (scale !== undefined && !(scale > 0 && scale <= 10)) throw new Error("--scale must be in (0, 10]");
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds > 0))
    throw new Error("--rounds must be ≥ 1");
  if (minutes !== undefined && !(minutes > 0 && minutes <= 240))
    throw new Error("--minutes must be in (0, 240]");
  if (consumers !== undefined && !(Number.isInteger(consumers) && consumers >= 1 && consumers <= 8))
    throw new Error("--consumers must be in 1..8");
  return { names: [...new Set(names)], tiny, scale, rounds, minutes, consumers, out };
};

const main = async () => {
  // kafkajs's negative timeout warning, as the roles filter it; other warnings still show.
  logWarnings(createLogger("warn", { component: "bench" }));
  const args = parse(process.argv.slice(2));
  const command = `npm run bench -- ${process.argv.slice(2).join(" ")}`;
  let failed = 0;
  for (const name of args.names) {
    const scenario = SCENARIOS[name];
    if (!scenario) continue;
    const opts: BenchOptions = {
      tiny: args.tiny,
      outDir: args.out,
      command,
      ...(args.scale !== undefined ? { scale: args.scale } : {}),
      ...(args.rounds !== undefined ? { rounds: args.rounds } : {}),
      ...(args.minutes !== undefined ? { minutes: args.minutes } : {}),
      ...(args.consumers !== undefined ? { consumers: args.consumers } : {}),
    };
    note(`== ${name}${args.tiny ? " (tiny)" : ""}`);
    try {
      // A scenario PostgreSQL's outage broke (fault tests share the machine) is run once more.
      // (Not soak: its outages are its own, and a run it judged must not be replaced by another.)
      const result =
        name === "soak" ? await scenario(opts) : await retryOnOutage(name, () => scenario(opts), 2);
      const file = writeResult(args.out, result);
      note(`${name}: ${result.durationS} s → ${file}`);
      for (const c of result.comparisons)
        note(
          `  ${c.name}: ours ${c.ours} vs ${c.reference} ${c.unit} → ratio ${c.ratio}${c.goal !== undefined ? ` (goal ≥ ${c.goal}: ${c.goalMet ? "met" : "MISSED"})` : ""}`,
        );
      for (const f of result.figures)
        note(
          `  ${f.name}: ${f.value} ${f.unit}${f.goalMet === undefined ? "" : f.goalMet ? " (goal met)" : " (goal MISSED)"}`,
        );
      // A ledger that found a loss, a duplicate or a slow takeover fails the run.
      if (name === "soak" && result.figures.some((f) => f.goalMet === false)) failed++;
    } catch (error) {
      failed++;
      note(`${name} FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  process.exit(failed ? 1 : 0);
};

if (import.meta.main) await main();
