// hostile: four garbage bodies at the size limit sent at once to the producer role (compiled binary, real
// Kafka), while its health is polled every ~20 ms and its memory sampled. References in the same run: health
// with no load, the same four bodies sent to a route that never reads them (the HTTP server's own cost of
// receiving 40 MB), and the same four requests carrying valid events.

import { loadavg } from "node:os";
import { gzipSync } from "node:zlib";
import { type AttackOutcome, attack, type Shot } from "../lib/attack.ts";
import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import { createTopic, deleteTopics, KAFKA_BROKERS, runId } from "../lib/services.ts";
import { percentile } from "../lib/stats.ts";

const MIB = 1024 * 1024;
const NDJSON = { "content-type": "application/x-ndjson" };
const JSON_TYPE = { "content-type": "application/json" };

/** The garbage bodies, each as large as MAX_BODY_BYTES allows (10 MiB by default; 1 MiB when tiny). */
/** Bodies are sent as bytes, encoded once: the sender must not spend the attack encoding strings. */
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

const garbage = (bytes: number): Record<string, { body: Uint8Array; headers: Record<string, string> }> => ({
  "ndjson-x-lines": { body: utf8("x\n".repeat(bytes / 2)), headers: NDJSON },
  "json-array-of-zeros": { body: utf8(`[${"0,".repeat(bytes / 2 - 2)}0]`), headers: JSON_TYPE },
  "json-array-of-empty-objects": {
    body: utf8(`[${"{},".repeat(Math.floor(bytes / 3) - 1)}{}]`),
    headers: JSON_TYPE,
  },
  // 64 MiB of NDJSON garbage in ~100 KiB: refused once the decompressed stream passes MAX_BODY_BYTES.
  "gzip-bomb": {
    body: gzipSync(Buffer.from("x\n".repeat(32 * MIB)), { level: 9 }),
    headers: { ...NDJSON, "content-encoding": "gzip" },
  },
});

/** Valid events of ~1 KB filling the same size: the reference load. */
const validBody = (bytes: number, seed: number): string => {
  const events: string[] = [];
  let size = 2;
  for (let i = 0; ; i++) {
    const e = JSON.stringify({
      level: ["INFO", "WARN", "ERROR"][i % 3],
      message: `bench hostile reference ${seed}-${i} ${"lorem ipsum ".repeat(75)}`,
      source: `svc-${i % 20}`,
    });
    if (size + e.length + 1 > bytes || events.length >= 10_000) break;
    events.push(e);
    size += e.length + 1;
  }
  return `[${events.join(",")}]`;
};

const max = (xs: number[]): number => (xs.length ? Math.max(...xs) : Number.NaN);

export const hostile = async (opts: BenchOptions) => {
  const res = new ResultBuilder("hostile", opts);
  const bodyBytes = opts.tiny ? MIB : 10 * MIB;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 3);
  Object.assign(res.params, { bodyBytes, rounds, concurrentBodies: 4, healthPollMs: 20 });
  const gen = phase("hostile: building bodies", 2, "sets");
  const bad = garbage(bodyBytes);
  gen.tick(1);
  const goodText = [0, 1, 2, 3].map((i) => validBody(bodyBytes, i));
  const good = goodText.map(utf8);
  gen.done();
  res.params.validEventsPerBody = (goodText[0]?.match(/"level"/g) ?? []).length;

  const load = () =>
    loadavg()
      .map((x) => x.toFixed(1))
      .join(" ");
  res.notes.push(`load average (1, 5, 15 min) at start: ${load()}`);
  const topic = `bench_hostile_${runId()}`;
  await createTopic(topic, 6);
  const producer = startRole("producer", {
    KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "6",
    MAX_BODY_BYTES: String(bodyBytes),
  });
  const base = `http://127.0.0.1:${producer.ports.producer}/producer/api/logs`;
  const health = `${base}/health`;
  const post = (body: string | Uint8Array, headers: Record<string, string>) => () =>
    fetch(`${base}/batch`, { method: "POST", headers, body });
  const idle: AttackOutcome[] = [];
  const hostileRuns: AttackOutcome[] = [];
  const validRuns: AttackOutcome[] = [];
  const unreadRuns: AttackOutcome[] = [];
  try {
    await waitFor(health, 60_000, producer);
    const p = phase("hostile: rounds", rounds, "rounds");
    for (let r = 0; r < rounds; r++) {
      idle.push(
        await attack(producer.pid, health, [
          { name: "idle", send: () => Bun.sleep(1000).then(() => new Response("")) },
        ]),
      );
      // The floor: the same bodies to a path with no route, answered 404 without reading them. What is left
      // is the HTTP server receiving 40 MB, before any logproc code sees a byte.
      unreadRuns.push(
        await attack(
          producer.pid,
          health,
          Object.entries(bad).map(([name, b]) => ({
            name,
            send: () => fetch(`${base}/no-such-route`, { method: "POST", headers: b.headers, body: b.body }),
          })),
        ),
      );
      const shots: Shot[] = Object.entries(bad).map(([name, b]) => ({ name, send: post(b.body, b.headers) }));
      hostileRuns.push(await attack(producer.pid, health, shots));
      validRuns.push(
        await attack(
          producer.pid,
          health,
          good.map((body, i) => ({ name: `valid-${i}`, send: post(body, JSON_TYPE) })),
        ),
      );
      p.tick(1);
    }
    p.done();
  } finally {
    const stopped = await producer.stop();
    res.rss("producer", stopped.peakRssBytes);
    await deleteTopics([topic]);
  }

  res.notes.push(`load average (1, 5, 15 min) at end: ${load()}`);
  const answers = hostileRuns.flatMap((r) => r.answers);
  const wrong = answers.filter((a) => a.status < 400 || a.status >= 500);
  if (wrong.length) res.notes.push(`garbage answered outside 4xx: ${JSON.stringify(wrong.slice(0, 4))}`);
  const refusedValid = validRuns.flatMap((r) => r.answers).filter((a) => a.status !== 200);
  if (refusedValid.length)
    res.notes.push(`valid bodies not answered 200: ${JSON.stringify(refusedValid.slice(0, 2))}`);
  for (const name of Object.keys(bad)) {
    const mine = answers.filter((a) => a.name === name);
    res.figures.push(
      figure({
        name: `garbage ${name}: answer (4 at once, slowest round)`,
        unit: "ms",
        value: max(mine.map((a) => a.ms)),
        goalMax: 1000,
        detail: { statuses: [...new Set(mine.map((a) => a.status))].join(","), answer: mine[0]?.body ?? "" },
      }),
    );
  }
  const healthHostile = hostileRuns.flatMap((r) => r.health);
  const healthIdle = idle.flatMap((r) => r.health);
  const healthValid = validRuns.flatMap((r) => r.health);
  const growth = (runs: AttackOutcome[]) => max(runs.map((r) => (r.rssPeak - r.rssBefore) / MIB));
  res.figures.push(
    figure({
      name: "garbage: health latency max during the attack",
      unit: "ms",
      value: max(healthHostile),
      goalMax: 100,
    }),
    figure({ name: "garbage: health polls during the attack", unit: "polls", value: healthHostile.length }),
    figure({
      name: "garbage: health polls answered before the first 4xx (slowest round)",
      unit: "polls",
      value: Math.min(...hostileRuns.map((r) => r.healthBeforeFirstAnswer)),
    }),
    figure({
      name: "garbage: RSS growth (peak VmRSS − VmRSS before)",
      unit: "MiB",
      value: growth(hostileRuns),
      goalMax: 200,
    }),
    figure({ name: "reference idle: health latency max", unit: "ms", value: max(healthIdle) }),
    figure({ name: "reference idle: health latency p50", unit: "ms", value: percentile(healthIdle, 50) }),
    figure({
      name: "reference valid events: slowest 200 answer (4 bodies at once)",
      unit: "ms",
      value: max(validRuns.flatMap((r) => r.answers.map((a) => a.ms))),
    }),
    figure({ name: "reference valid events: health latency max", unit: "ms", value: max(healthValid) }),
    figure({
      name: "reference unread (same bodies, 404 unread): slowest answer",
      unit: "ms",
      value: max(unreadRuns.flatMap((r) => r.answers.map((a) => a.ms))),
    }),
    figure({
      name: "reference unread (same bodies, 404 unread): health latency max",
      unit: "ms",
      value: max(unreadRuns.flatMap((r) => r.health)),
    }),
    figure({ name: "reference valid events: RSS growth", unit: "MiB", value: growth(validRuns) }),
  );
  res.comparisons.push(
    compare({
      name: "health latency max: garbage attack vs idle",
      unit: "ms",
      better: "lower",
      referenceName: "no load, same process",
      rounds: { ours: hostileRuns.map((r) => max(r.health)), reference: idle.map((r) => max(r.health)) },
    }),
    compare({
      name: "health latency max: garbage attack vs the same bodies unread",
      unit: "ms",
      better: "lower",
      referenceName: "same 4 bodies to a 404 route, never read",
      rounds: {
        ours: hostileRuns.map((r) => max(r.health)),
        reference: unreadRuns.map((r) => max(r.health)),
      },
    }),
    compare({
      name: "slowest answer: garbage attack vs the same bodies unread",
      unit: "ms",
      better: "lower",
      referenceName: "same 4 bodies to a 404 route, never read",
      rounds: {
        ours: hostileRuns.map((r) => max(r.answers.map((a) => a.ms))),
        reference: unreadRuns.map((r) => max(r.answers.map((a) => a.ms))),
      },
    }),
    compare({
      name: "health latency max: garbage attack vs valid bodies",
      unit: "ms",
      better: "lower",
      referenceName: "4 bodies of valid events",
      rounds: { ours: hostileRuns.map((r) => max(r.health)), reference: validRuns.map((r) => max(r.health)) },
    }),
  );
  note(
    `hostile: slowest 4xx ${Math.round(max(answers.map((a) => a.ms)))} ms, health max ${Math.round(max(healthHostile))} ms`,
  );
  return res.build();
};
