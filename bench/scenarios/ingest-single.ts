// ingest, single events: one ~100-byte event per request over 64 connections (wrk) to /ingest and /ingest/async,
// beside a bare kafkajs producer sending the same single messages with the same concurrency, same run.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_EVENT_LIMITS, makeEventParser } from "../../src/domain/log-event.ts";
import { encodeEvent } from "../../src/domain/wire.ts";
import type { BenchOptions, ResultBuilder } from "../lib/context.ts";
import { timedLoop, type WrkResult, wrk, wrkPostScript } from "../lib/load.ts";
import { startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import { createTopic, deleteTopics, KAFKA_BROKERS, kafka, runId, topicEvents } from "../lib/services.ts";
import { median, summarize } from "../lib/stats.ts";

const CONNECTIONS = 64;
/** The single event both the scenario and bench/paired-producers.ts post (98 bytes of JSON). */
export const SINGLE_EVENT = {
  level: "INFO",
  source: "checkout",
  message: "order 81723 paid by card 4242, 3 items, 59.90 EUR",
};

/** The producer's own counters, read from its /metrics page. */
const producerMetrics = async (url: string) => {
  const text = await (await fetch(url)).text();
  const value = (line: string): number => {
    const found = text.split("\n").find((l) => l.startsWith(`${line} `));
    return found ? Number(found.slice(line.length + 1)) : 0;
  };
  return {
    sends: value('bus_sends_total{result="ok"}') + value('bus_sends_total{result="error"}'),
    sentEvents: value("bus_send_events_sum"),
    overloaded: value('log_ingestion_total{status="overloaded"}'),
    breaker: value('circuit_breaker_state{name="bus"}'),
  };
};

export const singleEvents = async (res: ResultBuilder, opts: BenchOptions): Promise<void> => {
  const seconds = opts.tiny ? 2 : 10;
  const warmSeconds = opts.tiny ? 1 : 20;
  // Three rounds: on this shared machine one 10 s round of the same load moves by a fifth either way.
  const rounds = opts.rounds ?? 3;
  const body = JSON.stringify(SINGLE_EVENT);
  const parsed = makeEventParser(DEFAULT_EVENT_LIMITS)(SINGLE_EVENT, Date.now(), "");
  if (!parsed.ok) throw new Error("the bench event is invalid");
  const message = { key: SINGLE_EVENT.source, value: encodeEvent(parsed.event) };
  Object.assign(res.params, {
    singleConnections: CONNECTIONS,
    singleSeconds: seconds,
    singleWarmSeconds: warmSeconds,
    singleRounds: rounds,
    singleBodyBytes: Buffer.byteLength(body),
    singleRecordBytes: Buffer.byteLength(message.value),
  });

  const dir = mkdtempSync(join(tmpdir(), "bench-single-"));
  const script = wrkPostScript(dir, body);
  const id = runId();
  const topics = { ours: `bench_single_ours_${id}`, ref: `bench_single_ref_${id}` };
  await Promise.all(Object.values(topics).map((t) => createTopic(t, 6)));
  const producer = startRole("producer", {
    KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topics.ours,
    KAFKA_PARTITIONS: "6",
  });
  const base = `http://127.0.0.1:${producer.ports.producer}/producer/api/logs`;
  const bare = kafka().producer({ idempotent: true, maxInFlightRequests: 5 });
  const sync: WrkResult[] = [];
  const async: WrkResult[] = [];
  const ref: { rate: number; p50: number; p99: number }[] = [];
  let accepted = 0;
  try {
    await waitFor(`${base}/health`, 60_000, producer);
    await bare.connect();
    const send = async () => {
      await bare.send({ topic: topics.ref, acks: -1, messages: [message] });
    };
    // Warm-up: connections, metadata, and the JIT, which takes 15-20 s of this load to settle here (5 s
    // slices from a cold start: 16.8k, 16.9k, 18.5k, then 22.6-25.7k req/s). A producer runs for days, so
    // a figure measured before that is the start-up's, not the producer's.
    await wrk(`${base}/ingest`, warmSeconds, CONNECTIONS, 1, script);
    await timedLoop(warmSeconds / 2, CONNECTIONS, send);
    const before = await producerMetrics(`http://127.0.0.1:${producer.ports.producer}/metrics`);
    // The warm-up's events are on the topic too; only what the rounds add is compared with their 2xx answers.
    const warm = await topicEvents(topics.ours);
    for (let r = 0; r < rounds; r++) {
      const p = phase(`ingest single ${r + 1}/${rounds}: /ingest, /ingest/async, bare kafkajs`, 3, "runs");
      // The reference goes first in every other round, so drift on the shared machine favours neither side.
      const reference = () => timedLoop(seconds, CONNECTIONS, send);
      const early = r % 2 === 1 ? await reference() : undefined;
      p.tick();
      const s = await wrk(`${base}/ingest`, seconds, CONNECTIONS, 1, script);
      const a = await wrk(`${base}/ingest/async`, seconds, CONNECTIONS, 1, script);
      p.tick();
      const b = early ?? (await reference());
      p.done();
      if (b.failures) throw new Error(`${b.failures} bare kafkajs sends failed: ${b.firstError}`);
      const lat = summarize(b.latencies);
      sync.push(s);
      async.push(a);
      ref.push({ rate: b.count / b.elapsedS, p50: lat.p50, p99: lat.p99 });
      accepted += s.requests - s.non2xx + (a.requests - a.non2xx);
    }
    const after = await producerMetrics(`http://127.0.0.1:${producer.ports.producer}/metrics`);
    // 202 events are still being sent for a moment after wrk stops.
    const until = Date.now() + 10_000;
    let stored = (await topicEvents(topics.ours)) - warm;
    while (stored < accepted && Date.now() < until) {
      await Bun.sleep(200);
      stored = (await topicEvents(topics.ours)) - warm;
    }
    const sends = after.sends - before.sends;
    Object.assign(res.params, {
      singleAccepted: accepted,
      singleInTopic: stored,
      singleSends: sends,
      singleEventsPerSend:
        Math.round(((after.sentEvents - before.sentEvents) / Math.max(1, sends)) * 10) / 10,
      singleOverloaded: after.overloaded - before.overloaded,
      singleBreakerAtEnd: after.breaker,
    });
    if (stored < accepted)
      res.notes.push(`single events: topic holds ${stored}, ${accepted} were answered 2xx`);
  } finally {
    await bare.disconnect().catch(() => {});
    const stopped = await producer.stop();
    res.rss("producer (single events)", stopped.peakRssBytes);
    await deleteTopics(Object.values(topics));
    rmSync(dir, { recursive: true, force: true });
  }

  const rate2xx = (w: WrkResult) =>
    w.requests ? (w.requestsPerS * (w.requests - w.non2xx)) / w.requests : 0;
  const acceptedFraction = async.map((a) => (a.requests ? (a.requests - a.non2xx) / a.requests : 0));
  res.comparisons.push(
    compare({
      name: "single events: /ingest answered 200 per s (vs bare kafkajs, 1 message per send)",
      unit: "req/s",
      better: "higher",
      referenceName: `bare kafkajs, ${CONNECTIONS} concurrent single-message sends`,
      rounds: { ours: sync.map((s) => rate2xx(s)), reference: ref.map((x) => x.rate) },
    }),
    compare({
      name: "single events: /ingest/async answered 202 per s (vs bare kafkajs)",
      unit: "req/s",
      better: "higher",
      referenceName: `bare kafkajs, ${CONNECTIONS} concurrent single-message sends`,
      rounds: { ours: async.map((a) => rate2xx(a)), reference: ref.map((x) => x.rate) },
    }),
  );
  res.figures.push(
    figure({
      name: "single events: /ingest req/s (200)",
      unit: "req/s",
      value: median(sync.map((s) => rate2xx(s))),
      goalMin: 25_000,
      detail: { rounds: sync.map((s) => Math.round(rate2xx(s))).join(", ") },
    }),
    figure({ name: "single events: /ingest p50", unit: "ms", value: median(sync.map((s) => s.p50Ms)) }),
    figure({
      name: "single events: /ingest p99",
      unit: "ms",
      value: median(sync.map((s) => s.p99Ms)),
      goalMax: 50,
      detail: { rounds: sync.map((s) => s.p99Ms).join(", ") },
    }),
    figure({
      name: "single events: /ingest/async offered req/s",
      unit: "req/s",
      value: median(async.map((a) => a.requestsPerS)),
    }),
    figure({
      name: "single events: /ingest/async fraction answered 202",
      unit: "fraction",
      value: median(acceptedFraction),
      goalMin: 0.9,
      detail: { rounds: acceptedFraction.map((f) => f.toFixed(3)).join(", ") },
    }),
    figure({
      name: "single events: /ingest/async p99",
      unit: "ms",
      value: median(async.map((a) => a.p99Ms)),
    }),
    figure({
      name: "single events: bare kafkajs sends/s",
      unit: "msg/s",
      value: median(ref.map((x) => x.rate)),
    }),
    figure({ name: "single events: bare kafkajs p50", unit: "ms", value: median(ref.map((x) => x.p50)) }),
    figure({ name: "single events: bare kafkajs p99", unit: "ms", value: median(ref.map((x) => x.p99)) }),
  );
  const unanswered = [...sync, ...async].reduce((n, w) => n + w.timeouts, 0);
  if (unanswered) res.notes.push(`single events: ${unanswered} requests got no answer within wrk's 2 s`);
  note(
    `ingest single: /ingest ${Math.round(median(sync.map((s) => rate2xx(s))))} req/s, async 202 fraction ${median(acceptedFraction).toFixed(3)}, bare kafkajs ${Math.round(median(ref.map((x) => x.rate)))} msg/s`,
  );
};
