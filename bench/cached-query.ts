// cached-query: a repeated listing through the gateway over the in-memory cache, in one process and without
// services: CPU per request through app.fetch, and requests/s over HTTP (wrk), each against a bare answer
// of the same bytes measured in the same run, rounds alternating in order.
//
// usage: bun bench/cached-query.ts [--rounds n] [--requests n] [--seconds s] [--in-process]
// (--in-process: no HTTP runs, only the CPU per request through app.fetch)

import type { Server } from "bun";
import { uuidv7 } from "uuidv7";
import { MemoryCache } from "../src/adapters/cache/memory.ts";
import { createSqliteStore } from "../src/adapters/store/sqlite.ts";
import { loadConfig } from "../src/config/load.ts";
import { silentLogger } from "../src/observability/logger.ts";
import { createMetrics, Registry } from "../src/observability/metrics.ts";
import { buildGatewayApp } from "../src/roles/gateway.ts";
import { serve } from "../src/roles/serve.ts";
import { wrk } from "./lib/load.ts";
import { median, round } from "./lib/stats.ts";

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  const value = at < 0 ? fallback : Number(process.argv[at + 1]);
  if (!(value > 0)) throw new Error(`${name} must be a positive number`);
  return value;
};
const rounds = arg("--rounds", 3);
const requests = arg("--requests", 200_000);
const seconds = arg("--seconds", 5);
const httpToo = !process.argv.includes("--in-process");

const PATH = "/gateway/api/query/logs?level=ERROR,WARN&size=50";
const JSON_TYPE = "application/json; charset=UTF-8";

const store = createSqliteStore(":memory:");
const metrics = createMetrics(new Registry(), { defaults: false });
const cache = new MemoryCache();
const app = buildGatewayApp(loadConfig({}), { reader: store.reader, cache, metrics, logger: silentLogger });

// 200 events of ~600 characters: a page of 50 is about the 33 KB of the query scenario's page.
const now = Date.now();
const sourced = Array.from({ length: 200 }, (_, i) => ({
  event: {
    id: uuidv7(),
    level: i % 2 ? ("ERROR" as const) : ("WARN" as const),
    message: `request ${i} failed: ${"upstream answered late and the retry budget ran out; ".repeat(10)}`,
    source: "checkout",
    timestamp: now - 60_000 + i,
    metadata: { attempt: i % 5, region: "eu-west-1" },
  },
  partition: 0,
  offset: String(i),
}));
await store.writer.write({ group: "g", topic: "t", events: sourced, nextOffsets: new Map([[0, "200"]]) });

const url = `http://localhost${PATH}`;
const page = await (await app.request(PATH)).text();
const pageBlob = new Blob([page]);
/** The reference: what any server must do at least, answer the same bytes with their content type. */
const bare = (_request: Request): Response =>
  new Response(pageBlob, { headers: { "Content-Type": JSON_TYPE } });
const ours = (request: Request): Response | Promise<Response> => app.fetch(request);

const check = async (response: Response | Promise<Response>): Promise<void> => {
  const r = await response;
  if (r.status !== 200 || (await r.text()) !== page) throw new Error(`unexpected answer ${r.status}`);
};
await check(ours(new Request(url)));
await check(bare(new Request(url)));

/**
 * CPU nanoseconds per request (CPU rather than wall time: the machine is shared), body not read (both
 * bodies are Blobs: reading one copies the same bytes).
 */
const inProcess = async (handler: (r: Request) => Response | Promise<Response>): Promise<number> => {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const r = handler(new Request(url));
    if (r instanceof Promise) await r;
  }
  const cpu = process.cpuUsage(cpu0);
  return ((cpu.user + cpu.system) * 1000) / requests;
};

const listen = (handler: "ours" | "bare"): { port: number; stop(): Promise<void> } => {
  if (handler === "ours")
    return serve(app, { host: "127.0.0.1", port: 0, logger: silentLogger, name: "gateway" });
  const server: Server<undefined> = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: bare });
  return { port: server.port ?? 0, stop: () => server.stop(false) };
};

/** Requests/s and CPU microseconds per request (this process: the server; wrk runs apart). */
const overHttp = async (handler: "ours" | "bare") => {
  const server = listen(handler);
  try {
    const cpu0 = process.cpuUsage();
    const out = await wrk(`http://127.0.0.1:${server.port}${PATH}`, seconds);
    const cpu = process.cpuUsage(cpu0);
    if (out.non2xx > 0) throw new Error(`${handler}: ${out.non2xx} answers were not 2xx`);
    return { rps: out.requestsPerS, cpuUs: (cpu.user + cpu.system) / out.requests };
  } finally {
    await server.stop();
  }
};

const ns = { ours: [] as number[], bare: [] as number[] };
const rps = { ours: [] as number[], bare: [] as number[] };
const cpu = { ours: [] as number[], bare: [] as number[] };
const order = ["ours", "bare"] as const;
// Warm-up: both handlers compiled by the JIT before anything is timed.
await inProcess(ours);
await inProcess(bare);
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? order : [...order].reverse()) {
    ns[name].push(await inProcess(name === "ours" ? ours : bare));
    if (!httpToo) continue;
    const h = await overHttp(name);
    rps[name].push(h.rps);
    cpu[name].push(h.cpuUs);
  }
}
await cache.stop();
await store.reader.stop();
await store.writer.stop();

const rows = [
  ["in-process CPU ns/request", ns],
  ["HTTP req/s (wrk -c64)", rps],
  ["HTTP server CPU µs/request", cpu],
] as const;
console.log(`cached listing, ${Buffer.byteLength(page)} bytes, ${rounds} rounds, medians (all rounds):`);
for (const [name, v] of httpToo ? rows : rows.slice(0, 1)) {
  const ratio = median(v.ours) / median(v.bare);
  console.log(
    `${name.padEnd(28)} ours ${round(median(v.ours), 1)} (${v.ours.map((x) => round(x, 1)).join(", ")})` +
      `  bare ${round(median(v.bare), 1)} (${v.bare.map((x) => round(x, 1)).join(", ")})  ratio ${round(ratio, 3)}`,
  );
}
console.log(`in-process overhead over bare: ${round(median(ns.ours) - median(ns.bare), 0)} ns/request`);
