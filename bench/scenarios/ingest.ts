// ingest: HTTP batches (1,000 events of ~250 B) → Kafka (acks=all) through the producer role, against a bare
// kafkajs producer sending the same messages and Kafka's own ProducerPerformance, same record size, same run.

import { topicBytesOnBroker } from "../../scripts/kafka-tools.ts";
import { encodeEvent } from "../../src/domain/wire.ts";
import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { generateArray, inputOf } from "../lib/data.ts";
import { closedLoop } from "../lib/load.ts";
import { KAFKA_LIBS, run, startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import { createTopic, deleteTopics, KAFKA_BROKERS, kafka, runId, topicEvents } from "../lib/services.ts";
import { median, summarize } from "../lib/stats.ts";
import { singleEvents } from "./ingest-single.ts";

const BATCH = 1000;

/** Kafka's own producer benchmark from the cached jars; returns records/s and its latency percentiles. */
const producerPerformance = async (topic: string, records: number, size: number) => {
  const out = await run([
    "java",
    "-Xmx512m",
    "-cp",
    `${KAFKA_LIBS}/*`,
    "org.apache.kafka.tools.ProducerPerformance",
    "--topic",
    topic,
    "--num-records",
    String(records),
    "--record-size",
    String(size),
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${KAFKA_BROKERS.join(",")}`,
    "acks=all",
  ]);
  // "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, p50 ms 50th, p95 ms 95th, p99 ms 99th, …"
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th/.exec(
      out,
    );
  if (!m) throw new Error(`could not read ProducerPerformance output:\n${out.slice(-1500)}`);
  return { recordsPerS: Number(m[2]), p50: Number(m[6]), p99: Number(m[8]) };
};

export const ingest = async (opts: BenchOptions) => {
  const res = new ResultBuilder("ingest", opts);
  const events = opts.tiny ? 3 * BATCH : 200 * BATCH;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 3);
  const concurrency = 4;
  Object.assign(res.params, {
    eventsPerRound: events,
    batchEvents: BATCH,
    rounds,
    concurrency,
    messageBytes: 250,
    acks: "all",
  });

  const gen = phase("ingest: generating events", events, "events");
  const data = generateArray({ count: events, messageBytes: 250, seed: 11 });
  gen.done();
  const batches: { body: string; messages: { key: string; value: string }[] }[] = [];
  for (let i = 0; i < data.length; i += BATCH) {
    const slice = data.slice(i, i + BATCH);
    batches.push({
      body: JSON.stringify(slice.map(inputOf)),
      messages: slice.map((e) => ({ key: e.source, value: encodeEvent(e) })),
    });
  }
  const recordSize = Math.round(
    batches.flatMap((b) => b.messages).reduce((n, m) => n + Buffer.byteLength(m.value), 0) / events,
  );
  res.params.recordBytes = recordSize;
  res.params.messageBytesAvg = Math.round(data.reduce((n, e) => n + e.message.length, 0) / events);

  const id = runId();
  const topics = {
    ours: `bench_ingest_ours_${id}`,
    ref: `bench_ingest_ref_${id}`,
    java: `bench_ingest_java_${id}`,
  };
  await Promise.all(Object.values(topics).map((t) => createTopic(t, 6)));
  const producer = startRole("producer", {
    KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topics.ours,
    KAFKA_PARTITIONS: "6",
  });
  const base = `http://127.0.0.1:${producer.ports.producer}/producer/api/logs`;
  const bare = kafka().producer({ idempotent: true, maxInFlightRequests: 5 });
  const ours = { rate: [] as number[], lat: [] as number[] };
  const ref = { rate: [] as number[], lat: [] as number[] };
  const java = { rate: [] as number[], p99: [] as number[] };
  let sentOurs = 0;
  let failed = 0;
  let firstError: string | undefined;
  try {
    await waitFor(`${base}/health`, 60_000, producer);
    await bare.connect();
    const post = async (i: number) => {
      const b = batches[i % batches.length];
      if (!b) throw new Error("no batch");
      const r = await fetch(`${base}/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: b.body,
      });
      const body = (await r.json()) as { successCount?: number };
      if (r.status !== 200 || body.successCount !== b.messages.length)
        throw new Error(`batch answered ${r.status}: ${JSON.stringify(body).slice(0, 300)}`);
    };
    const send = async (i: number) => {
      const b = batches[i % batches.length];
      if (!b) throw new Error("no batch");
      await bare.send({ topic: topics.ref, acks: -1, messages: b.messages });
    };
    // Warm-up: connections, metadata, JIT.
    await closedLoop(Math.min(4, batches.length), 2, post);
    await closedLoop(Math.min(4, batches.length), 2, send);
    sentOurs += Math.min(4, batches.length) * BATCH;

    for (let r = 0; r < rounds; r++) {
      const runOurs = async () => {
        const p = phase(`ingest ${r + 1}/${rounds}: producer role`, batches.length, "batches");
        const out = await closedLoop(batches.length, concurrency, post, p);
        p.done();
        // A 503 (send past KAFKA_SEND_TIMEOUT_MS) is the product shedding load: counted, not fatal.
        if (out.failures === batches.length) throw new Error(`every batch failed: ${out.firstError}`);
        if (out.failures) {
          failed += out.failures;
          firstError ??= out.firstError;
        }
        const accepted = (batches.length - out.failures) * BATCH;
        sentOurs += accepted;
        ours.rate.push(accepted / out.elapsedS);
        ours.lat.push(...out.latencies);
      };
      const runRef = async () => {
        const p = phase(`ingest ${r + 1}/${rounds}: bare kafkajs`, batches.length, "batches");
        const out = await closedLoop(batches.length, concurrency, send, p);
        p.done();
        if (out.failures) throw new Error(`${out.failures} sends failed: ${out.firstError}`);
        ref.rate.push(events / out.elapsedS);
        ref.lat.push(...out.latencies);
      };
      // Alternate who goes first, so drift on the shared machine does not favour one side.
      if (r % 2 === 0) {
        await runOurs();
        await runRef();
      } else {
        await runRef();
        await runOurs();
      }
      const p = phase(`ingest ${r + 1}/${rounds}: ProducerPerformance`, 1, "runs");
      const j = await producerPerformance(topics.java, events, recordSize);
      p.done();
      java.rate.push(j.recordsPerS);
      java.p99.push(j.p99);
    }
    res.params.failedBatches = failed;
    if (failed) res.notes.push(`${failed} producer-role batches were refused (503): ${firstError}`);
    const stored = await topicEvents(topics.ours);
    res.params.countOursSent = sentOurs;
    res.params.countOursInTopic = stored;
    if (stored !== sentOurs) res.notes.push(`topic holds ${stored} events, ${sentOurs} were accepted`);
    // What the events take on the broker: record batches as the producer role writes them (KAFKA_COMPRESSION),
    // and as bare kafkajs sends them (one uncompressed record per event).
    const bytes = await topicBytesOnBroker(KAFKA_BROKERS, [topics.ours, topics.ref]);
    res.figures.push(
      figure({
        name: "producer role: bytes per event on the broker",
        unit: "B",
        value: (bytes.get(topics.ours) ?? 0) / stored,
      }),
      figure({
        name: "bare kafkajs: bytes per event on the broker",
        unit: "B",
        // Each round sends every batch once, after four warm-up batches.
        value:
          (bytes.get(topics.ref) ?? 0) / ((Math.min(4, batches.length) + rounds * batches.length) * BATCH),
      }),
    );
  } finally {
    await bare.disconnect().catch(() => {});
    const stopped = await producer.stop();
    res.rss("producer", stopped.peakRssBytes);
    res.params.producerCpuSeconds = stopped.cpuSeconds;
    await deleteTopics(Object.values(topics));
  }

  res.comparisons.push(
    compare({
      name: "ingest events/s (vs bare kafkajs)",
      unit: "events/s",
      better: "higher",
      referenceName: "bare kafkajs, same messages",
      goal: 0.8,
      rounds: { ours: ours.rate, reference: ref.rate },
    }),
    compare({
      name: "ingest events/s (vs ProducerPerformance)",
      unit: "events/s",
      better: "higher",
      referenceName: `Kafka ProducerPerformance, ${recordSize} B records`,
      rounds: { ours: ours.rate, reference: java.rate },
    }),
  );
  const lo = summarize(ours.lat);
  const lr = summarize(ref.lat);
  res.figures.push(
    figure({ name: "producer role: request p50 (1,000 events)", unit: "ms", value: lo.p50 }),
    figure({ name: "producer role: request p99 (1,000 events)", unit: "ms", value: lo.p99 }),
    figure({ name: "bare kafkajs: send p50 (1,000 messages)", unit: "ms", value: lr.p50 }),
    figure({ name: "bare kafkajs: send p99 (1,000 messages)", unit: "ms", value: lr.p99 }),
    figure({ name: "ProducerPerformance p99 (per record)", unit: "ms", value: median(java.p99) }),
  );
  note(`ingest: ours ${res.comparisons[0]?.ours} ev/s, kafkajs ${res.comparisons[0]?.reference} ev/s`);
  await singleEvents(res, opts);
  return res.build();
};
