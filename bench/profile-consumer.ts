// Where a stored row's CPU goes in the consumer: fills a topic of its own, runs the consumer role from source
// under Bun's sampling profiler into a database of its own, and sums the samples of the main thread by stage.
// Usage: bun bench/profile-consumer.ts [events]   (default 300,000)
// PROFILE=0 runs it without the profiler; PROFILE_KEEP=1 keeps the profile (with each function's callers);
// PROFILE_TOP=N lists the N functions with the most samples. MIMALLOC_* and BUN_JSC_* pass on (bench/lib/proc.ts).

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { visibleWatermark } from "../src/adapters/store/postgres/reader.ts";
import { threadCpuSeconds } from "./lib/cpu.ts";
import { fill } from "./lib/fill.ts";
import { freePort, start } from "./lib/proc.ts";
import {
  createDatabase,
  createTopic,
  dbUrl,
  deleteTopics,
  dropDatabase,
  KAFKA_BROKERS,
  runId,
} from "./lib/services.ts";

const events = Number(process.argv[2] ?? 300_000);
const id = runId();
const topic = `profile_consumer_${id}`;
const db = `profile_consumer_${id}`;
const dir = mkdtempSync(join(tmpdir(), "logproc-profile-"));
/** PROFILE=0: no profiler, only the CPU time per row and by thread (the profiler's own cost left out). */
const profiled = process.env.PROFILE !== "0";

/** Stages, by the file a sample's function is in or, for the engine's own functions, by their name. */
const STAGES: [string, (fn: string, file: string) => boolean][] = [
  ["Kafka fetch and record decoding (kafkajs)", (_, f) => f.includes("/kafkajs/")],
  [
    "tsvector (tokenizing)",
    (_, f) => f.endsWith("/tsv.ts") || f.endsWith("/tsv-binary.ts") || f.endsWith("/search-syntax.ts"),
  ],
  [
    "event decoding (JSON.parse of the wire format, checks)",
    (fn, f) => f.endsWith("/wire.ts") || fn === "parse",
  ],
  [
    "COPY rows (binary fields, UTF-8 bytes)",
    (fn, f) =>
      f.endsWith("/write-rows.ts") ||
      f.endsWith("/copy.ts") ||
      ["toISOString", "Date", "stringify", "write", "Buffer", "byteLength"].includes(fn),
  ],
  ["rollups (minute, hour, level counts)", (_, f) => f.endsWith("/rollup-rows.ts")],
  [
    "PostgreSQL protocol (postgres.js, parameters, streams)",
    (fn, f) => f.includes("/postgres/src/") || f.startsWith("internal:streams") || fn === "concat",
  ],
  ["metrics (prom-client)", (_, f) => f.includes("/prom-client/")],
  [
    "batching, offsets, dedupe within the batch",
    (_, f) => f.includes("/src/adapters/") || f.includes("/src/services/") || f.includes("/src/domain/"),
  ],
];

/** Self samples per function of Bun's Markdown CPU profile ("### `fn`" blocks with their location). */
const samplesByFunction = (md: string): { fn: string; file: string; samples: number }[] => {
  const out: { fn: string; file: string; samples: number }[] = [];
  const blocks = md.split("\n### ").slice(1);
  for (const b of blocks) {
    const fn = /^`([^`]*)`/.exec(b)?.[1] ?? "";
    const line = b.split("\n")[1] ?? "";
    const file = /^`([^`]*)`/.exec(line)?.[1]?.replace(/:\d+$/, "") ?? "";
    const samples = Number(/Samples: (\d+)/.exec(line)?.[1] ?? 0);
    if (samples) out.push({ fn, file, samples });
  }
  return out;
};

/** The main thread's samples summed by stage (and the functions with the most, with PROFILE_TOP). */
const report = (events: number): void => {
  const md = readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith(".md")) as string), "utf8");
  const fns = samplesByFunction(md);
  const total = fns.reduce((n, f) => n + f.samples, 0);
  const sums = new Map<string, number>();
  for (const f of fns) {
    const stage = STAGES.find(([, match]) => match(f.fn, f.file))?.[0] ?? "other (engine, event loop, GC)";
    sums.set(stage, (sums.get(stage) ?? 0) + f.samples);
  }
  const mainUsPerRow = (total * 1000) / events; // 1 ms per sample
  console.log(`main thread sampled ${mainUsPerRow.toFixed(1)} µs/row\n`);
  console.log("| stage (main thread) | share | µs/row |\n|---|---:|---:|");
  for (const [stage, n] of [...sums].sort((a, b) => b[1] - a[1]))
    console.log(`| ${stage} | ${((100 * n) / total).toFixed(1)} % | ${((n * 1000) / events).toFixed(1)} |`);
  if (process.env.PROFILE_TOP) {
    console.log("\nfunctions with the most samples:");
    for (const f of fns.sort((a, b) => b.samples - a.samples).slice(0, Number(process.env.PROFILE_TOP)))
      console.log(`${f.samples}\t${f.fn}\t${f.file.replace(process.cwd(), ".")}`);
  }
};

try {
  await createTopic(topic, 6);
  await fill({ count: events, seed: 3, topic, label: "profile: filling the topic" });
  await createDatabase(db);
  const consumer = start(
    "consumer",
    [
      process.execPath,
      ...(profiled ? ["--cpu-prof-md", `--cpu-prof-dir=${dir}`] : []),
      "src/main.ts",
      "--role",
      "consumer",
    ],
    {
      HOST: "127.0.0.1",
      CONSUMER_PORT: String(freePort()),
      POSTGRES_URL: dbUrl(db),
      KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: topic,
      KAFKA_CONSUMER_GROUP: `profile_${id}`,
      CONSUMER_BATCH_SIZE: "10000",
    },
  );
  const sql = postgres(dbUrl(db), { max: 1, onnotice: () => {} });
  const started = performance.now();
  while ((await visibleWatermark(sql).catch(() => 0)) < events) {
    if (consumer.exitCode() !== null) throw new Error(consumer.stderr().slice(-2000));
    await Bun.sleep(200);
  }
  const seconds = (performance.now() - started) / 1000;
  await sql.end();
  const threads = [...threadCpuSeconds(consumer.pid)]
    .sort((a, b) => b[1] - a[1])
    .map(([name, cpu]) => `${name} ${((cpu * 1e6) / events).toFixed(1)}`)
    .join(", ");
  const stopped = await consumer.stop();
  const usPerRow = (stopped.cpuSeconds * 1e6) / events;
  console.log(`${events} rows in ${seconds.toFixed(1)} s (${Math.round(events / seconds)} rows/s)`);
  console.log(`process CPU ${usPerRow.toFixed(1)} µs/row; by thread (µs/row): ${threads}`);
  if (profiled) report(events);
} finally {
  await dropDatabase(db).catch(() => {});
  await deleteTopics([topic]).catch(() => {});
  if (process.env.PROFILE_KEEP) console.log(`profile kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
