// protocols: the same events sent to the producer role as each shipper protocol's body and as native batches,
// in the same run, rounds alternating the order; events/s of each protocol against the native batch API.

import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { generateArray } from "../lib/data.ts";
import { closedLoop } from "../lib/load.ts";
import { startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import { createTopic, deleteTopics, KAFKA_BROKERS, kafka, runId } from "../lib/services.ts";
import { NATIVE, type ProtocolEntry, SHIPPER_PROTOCOLS } from "../lib/shipper-bodies.ts";
import { summarize } from "../lib/stats.ts";

const BATCH = 1000;

const topicCount = async (topic: string): Promise<number> => {
  const a = kafka().admin();
  await a.connect();
  try {
    const offsets = await a.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await a.disconnect();
  }
};

export const protocols = async (opts: BenchOptions) => {
  const res = new ResultBuilder("protocols", opts);
  const events = opts.tiny ? 3 * BATCH : 100 * BATCH;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 3);
  const concurrency = 4;
  const entries: ProtocolEntry[] = [NATIVE, ...SHIPPER_PROTOCOLS];
  Object.assign(res.params, { eventsPerRound: events, batchEvents: BATCH, rounds, concurrency, acks: "all" });

  const data = generateArray({ count: events, seed: 17 });
  const bodies = new Map<ProtocolEntry, (Uint8Array | string)[]>();
  for (const entry of entries) {
    const list: (Uint8Array | string)[] = [];
    for (let i = 0; i < data.length; i += BATCH) list.push(entry.encode(data.slice(i, i + BATCH)));
    bodies.set(entry, list);
    const bytes = list.reduce((n, b) => n + (typeof b === "string" ? Buffer.byteLength(b) : b.byteLength), 0);
    res.params[`${entry.name} bytes/event`] = Math.round(bytes / events);
  }

  const topic = `bench_protocols_${runId()}`;
  await createTopic(topic, 6);
  const producer = startRole("producer", {
    KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "6",
  });
  const base = `http://127.0.0.1:${producer.ports.producer}`;
  const rates = new Map<ProtocolEntry, number[]>(entries.map((e) => [e, []]));
  const latencies = new Map<ProtocolEntry, number[]>(entries.map((e) => [e, []]));
  const failed = new Map<ProtocolEntry, number>();
  let accepted = 0;
  try {
    await waitFor(`${base}/producer/api/logs/health`, 60_000, producer);
    const poster = (entry: ProtocolEntry) => {
      const list = bodies.get(entry) ?? [];
      return async (i: number) => {
        const body = list[i % list.length];
        if (body === undefined) throw new Error("no body");
        const r = await fetch(`${base}${entry.path}`, { method: "POST", headers: entry.headers, body });
        await entry.check(r, BATCH);
      };
    };
    // Warm-up: connections, metadata, JIT, every decoder.
    for (const entry of entries) {
      const out = await closedLoop(2, 2, poster(entry));
      if (out.failures === 2) throw new Error(`${entry.name} warm-up failed: ${out.firstError}`);
      accepted += (2 - out.failures) * BATCH;
    }
    const batches = Math.ceil(events / BATCH);
    for (let r = 0; r < rounds; r++) {
      // Each round starts with another protocol, so drift on the shared machine favours none.
      const order = entries.map((_, i) => entries[(i + r) % entries.length] as ProtocolEntry);
      for (const entry of order) {
        const p = phase(`protocols ${r + 1}/${rounds}: ${entry.name}`, batches, "batches");
        const out = await closedLoop(batches, concurrency, poster(entry), p);
        p.done();
        // A 503 (a send past KAFKA_SEND_TIMEOUT_MS) is the producer shedding load: counted, not fatal.
        if (out.failures === batches)
          throw new Error(`${entry.name}: every request failed: ${out.firstError}`);
        if (out.failures) {
          failed.set(entry, (failed.get(entry) ?? 0) + out.failures);
          res.notes.push(
            `${entry.name}, round ${r + 1}: ${out.failures} requests refused: ${out.firstError}`,
          );
        }
        accepted += (batches - out.failures) * BATCH;
        rates.get(entry)?.push(((batches - out.failures) * BATCH) / out.elapsedS);
        latencies.get(entry)?.push(...out.latencies);
      }
    }
    for (const [entry, n] of failed) res.params[`${entry.name} refused requests`] = n;
    const stored = await topicCount(topic);
    res.params.countAccepted = accepted;
    res.params.countInTopic = stored;
    if (stored !== accepted) res.notes.push(`topic holds ${stored} records, ${accepted} were accepted`);
  } finally {
    const stopped = await producer.stop();
    res.rss("producer", stopped.peakRssBytes);
    res.params.producerCpuSeconds = stopped.cpuSeconds;
    await deleteTopics([topic]);
  }

  const native = rates.get(NATIVE) ?? [];
  for (const entry of SHIPPER_PROTOCOLS)
    res.comparisons.push(
      compare({
        name: `${entry.name} events/s (vs native batch)`,
        unit: "events/s",
        better: "higher",
        referenceName: "native JSON batch API, same events, same producer",
        goal: 0.8,
        rounds: { ours: rates.get(entry) ?? [], reference: native },
      }),
    );
  for (const entry of entries)
    res.figures.push(
      figure({
        name: `${entry.name}: request p50 (1,000 events)`,
        unit: "ms",
        value: summarize(latencies.get(entry) ?? []).p50,
      }),
    );
  note(`protocols: native ${res.comparisons[0]?.reference} ev/s`);
  return res.build();
};
