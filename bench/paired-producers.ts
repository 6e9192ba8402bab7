// paired-producers: two producer processes, A and B, under the same single-event load at the same time (wrk
// on each, half the connections each), so that whatever the shared host does to one it does to the other.
// Reports each side's requests/s and CPU per request, and B's CPU per request over A's, for every round.
//
// This machine's speed moves by a third within minutes; rounds taken one after another compare hours, not
// code. A ratio of two processes measured side by side does not carry that drift.
//
// usage: bun bench/paired-producers.ts [--a "K=V ..."] [--b "K=V ..."] [--a-bin path] [--b-bin path]
//        [--rounds n] [--seconds s] [--warm s] [--connections n]
// (--a/--b: environment of that side, on top of a producer of its own topic; both default to dist/logproc)
//
// e.g. the cost of the metrics: bun bench/paired-producers.ts --b "PROMETHEUS_ENABLED=false"

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wrk, wrkPostScript } from "./lib/load.ts";
import { BINARY, cpuSeconds, startRole, waitFor } from "./lib/proc.ts";
import { createTopic, deleteTopics, KAFKA_BROKERS, runId } from "./lib/services.ts";
import { median, round } from "./lib/stats.ts";
import { SINGLE_EVENT } from "./scenarios/ingest-single.ts";

const argOf = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
};
const number = (name: string, fallback: number): number => {
  const value = Number(argOf(name) ?? fallback);
  if (!(value > 0)) throw new Error(`${name} must be a positive number`);
  return value;
};
const envOf = (name: string): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const pair of (argOf(name) ?? "").split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new Error(`${name}: "${pair}" is not K=V`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
};

const rounds = number("--rounds", 6);
const seconds = number("--seconds", 10);
const warm = number("--warm", 20);
const connections = number("--connections", 32);

const dir = mkdtempSync(join(tmpdir(), "bench-paired-"));
const script = wrkPostScript(dir, JSON.stringify(SINGLE_EVENT));
const id = runId();
const sides = (["a", "b"] as const).map((name) => ({
  name: name.toUpperCase(),
  topic: `bench_paired_${name}_${id}`,
  env: envOf(`--${name}`),
  binary: argOf(`--${name}-bin`) ?? BINARY,
}));
await Promise.all(sides.map((s) => createTopic(s.topic, 6)));
const running = sides.map((s) =>
  startRole(
    "producer",
    {
      KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: s.topic,
      KAFKA_PARTITIONS: "6",
      ...s.env,
    },
    s.binary,
  ),
);
const urls = running.map((r) => `http://127.0.0.1:${r.ports.producer}/producer/api/logs`);
const ratios: number[] = [];
try {
  await Promise.all(urls.map((u, i) => waitFor(`${u}/health`, 60_000, running[i])));
  // Both warm up together: the JIT takes 15-20 s of this load to settle.
  await Promise.all(urls.map((u) => wrk(`${u}/ingest`, warm, connections, 1, script)));
  console.log(`A: ${sides[0]?.binary} ${JSON.stringify(sides[0]?.env)}`);
  console.log(`B: ${sides[1]?.binary} ${JSON.stringify(sides[1]?.env)}`);
  for (let r = 1; r <= rounds; r++) {
    const before = running.map((p) => cpuSeconds(p.pid));
    const results = await Promise.all(urls.map((u) => wrk(`${u}/ingest`, seconds, connections, 1, script)));
    const perRequest = running.map((p, i) => {
      const result = results[i];
      if (!result || result.non2xx || result.timeouts)
        throw new Error(`${sides[i]?.name}: ${result?.non2xx} non-2xx, ${result?.timeouts} timeouts`);
      return ((cpuSeconds(p.pid) - (before[i] ?? 0)) / result.requests) * 1e6;
    });
    const [a, b] = perRequest as [number, number];
    ratios.push(b / a);
    console.log(
      `round ${r}: A ${Math.round(results[0]?.requestsPerS ?? 0)} req/s ${round(a, 1)} µs/req | ` +
        `B ${Math.round(results[1]?.requestsPerS ?? 0)} req/s ${round(b, 1)} µs/req | B/A ${round(b / a, 3)}`,
    );
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  console.log(
    `B/A CPU per request: median ${round(median(ratios), 3)} (${round(sorted[0] ?? 0, 3)}–${round(sorted.at(-1) ?? 0, 3)})`,
  );
} finally {
  await Promise.all(running.map((p) => p.stop()));
  await deleteTopics(sides.map((s) => s.topic));
  rmSync(dir, { recursive: true, force: true });
}
