// Freshness at fixed offered rates, and the saturation of one pipeline: producer, consumer and gateway as in
// `npm run bench -- e2e`, but at rates given in events/s (comparable between builds and settings, where e2e's
// phases are shares of each run's own saturation), with the consumer's batches and write times per phase.
// Usage: bun bench/freshness.ts [rates] [seconds]   (default 16000,19000,22000 events/s, 15 s each)
// SATURATION=1 first measures what 4 clients in a closed loop get stored per second (until the last row), with
// PostgreSQL's WAL per event. The roles get CONSUMER_WRITERS, KAFKA_COMPRESSION, … from this environment
// (bench/lib/proc.ts): alternate runs with `CONSUMER_WRITERS=1` and `=2` to compare them.

import postgres from "postgres";
import { visibleWatermark } from "../src/adapters/store/postgres/reader.ts";
import { createLogger } from "../src/observability/logger.ts";
import { logWarnings } from "../src/observability/warnings.ts";
import { BATCH, batchBodies, postBatch, probeFreshness } from "./lib/batches.ts";
import { paced } from "./lib/load.ts";
import { startRole, waitFor } from "./lib/proc.ts";
import {
  createDatabase,
  createTopic,
  dbUrl,
  deleteTopics,
  dropDatabase,
  KAFKA_BROKERS,
  runId,
} from "./lib/services.ts";
import { summarize } from "./lib/stats.ts";

logWarnings(createLogger("warn", { component: "bench" }));

const rates = (process.argv[2] ?? "16000,19000,22000").split(",").filter(Boolean).map(Number);
const seconds = Number(process.argv[3] ?? 15);
const id = runId();
const topic = `bench_freshness_${id}`;
const db = `logproc_bench_freshness_${id}`;
await createTopic(topic, 6);
await createDatabase(db);
const kafkaEnv = {
  KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
  KAFKA_TOPIC: topic,
  KAFKA_CONSUMER_GROUP: topic,
};
const producer = startRole("producer", kafkaEnv);
const consumer = startRole("consumer", { ...kafkaEnv, POSTGRES_URL: dbUrl(db) });
const gateway = startRole("gateway", { POSTGRES_URL: dbUrl(db), CACHE_TTL_MS: "0", CACHE_LIVE_TTL_MS: "0" });
const sql = postgres(dbUrl(db), { max: 1, onnotice: () => {} });

/** The consumer's batches so far, from one read of its metrics page (each metric summed over its labels). */
const batches = async () => {
  const text = await (await fetch(`http://127.0.0.1:${consumer.ports.consumer}/actuator/prometheus`)).text();
  const sum = (name: string): number => {
    let n = 0;
    for (const line of text.split("\n")) if (line.startsWith(`${name} `)) n += Number(line.split(" ").pop());
    return n;
  };
  return {
    count: sum("consumer_batch_size_count"),
    events: sum("consumer_batch_size_sum"),
    seconds: sum("log_processing_duration_seconds_sum"),
  };
};
const wal = async () => {
  const [row] = await sql<{ bytes: number }[]>`select wal_bytes::float8 as bytes from pg_stat_wal`;
  return row?.bytes ?? 0;
};

try {
  const pr = `http://127.0.0.1:${producer.ports.producer}/producer/api/logs`;
  const gw = `http://127.0.0.1:${gateway.ports.gateway}/gateway/api/query`;
  await Promise.all([
    waitFor(`${pr}/health`, 60_000, producer),
    waitFor(`http://127.0.0.1:${consumer.ports.consumer}/actuator/health`, 60_000, consumer),
    waitFor(`${gw}/health`, 60_000, gateway),
  ]);
  const body = batchBodies(`fresh-${id}`, 200);
  const post = async (b: { text: string }): Promise<void> => {
    await postBatch(pr, b.text);
  };
  // The group joined and the first partitions created before anything is timed.
  await paced(5, 8, () => post(body()));

  if (process.env.SATURATION) {
    const before = await visibleWatermark(sql);
    const wal0 = await wal();
    const t0 = performance.now();
    let stop = false;
    let sent = 0;
    const timer = setTimeout(() => {
      stop = true;
    }, seconds * 1000);
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          await post(body());
          sent += BATCH;
        }
      }),
    );
    clearTimeout(timer);
    while ((await visibleWatermark(sql)) - before < sent) await Bun.sleep(20);
    const elapsed = (performance.now() - t0) / 1000;
    console.log(
      `saturation: ${(sent / elapsed).toFixed(0)} events/s stored; WAL ${(((await wal()) - wal0) / sent).toFixed(0)} B/event`,
    );
  }

  console.log("| offered | stored | freshness p50 | p99 | consumer batches | events per batch | write |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|");
  for (const offered of rates) {
    const rate = offered / BATCH;
    const fresh: number[] = [];
    const probes: Promise<void>[] = [];
    const every = Math.max(1, Math.ceil(rate / 4));
    const b0 = await batches();
    const before = await visibleWatermark(sql);
    const t0 = performance.now();
    let sent = 0;
    await paced(rate, seconds, async (i) => {
      const b = body();
      await post(b);
      sent += BATCH;
      if (i % every === 0) probes.push(probeFreshness(gw, b.probe, performance.now(), fresh));
    });
    const posted = performance.now();
    await Promise.all(probes);
    const stored = ((await visibleWatermark(sql)) - before) / ((posted - t0) / 1000);
    const b1 = await batches();
    const n = b1.count - b0.count;
    const s = summarize(fresh);
    console.log(
      `| ${offered} ev/s | ${stored.toFixed(0)} ev/s | ${s.p50.toFixed(0)} ms | ${s.p99.toFixed(0)} ms | ${n} | ${((b1.events - b0.events) / n).toFixed(0)} | ${(((b1.seconds - b0.seconds) / n) * 1000).toFixed(0)} ms |`,
    );
    // The backlog of a phase that fell behind is not the next phase's.
    while ((await visibleWatermark(sql)) < before + sent) await Bun.sleep(50);
    await Bun.sleep(2000);
  }
} finally {
  await sql.end();
  for (const r of [producer, consumer, gateway]) await r.stop();
  await dropDatabase(db);
  await deleteTopics([topic]);
}
