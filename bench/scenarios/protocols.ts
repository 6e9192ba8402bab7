// protocols: events/s of each shipper protocol (bench/protocols/index.ts) beside the native batch API, through
// one producer role on Kafka (acks=all), same events, batches of 1,000, same run, alternating order per round;
// and the producer's CPU time per event in each pass, which other load on a shared machine disturbs far less.

import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { generateArray } from "../lib/data.ts";
import { closedLoop } from "../lib/load.ts";
import { cpuSeconds, freePort, startRole, waitFor } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import { createTopic, deleteTopics, KAFKA_BROKERS, runId } from "../lib/services.ts";
import { PROTOCOL_BENCHES } from "../protocols/index.ts";
import { native } from "../protocols/native.ts";
import type { ProtocolBench, ProtocolSender } from "../protocols/types.ts";

const BATCH = 1000;
const CONCURRENCY = 4;
const SEND_TIMEOUT_MS = "10000";

/**
 * Events Kafka acknowledged to the producer (acks=all: they are on the topic), from its /metrics page. The
 * topic's offsets count records, and the producer packs a source's events into one record.
 */
const ackedEvents = async (producerUrl: string): Promise<number> => {
  const text = await (await fetch(`${producerUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('kafka_messages_sent_total{result="ok"} '));
  return line ? Number(line.split(" ")[1]) : 0;
};

/** What one pass over every batch measured. */
interface PassResult {
  eventsPerS: number;
  /** The producer's user + system CPU time over the pass, per event sent. */
  producerCpuUsPerEvent: number;
}

/**
 * Events/s of one pass over every batch: until the answers, or for an unacked protocol until the topic holds
 * them, and the producer's CPU time per event meanwhile. A refused batch (503: a send past
 * KAFKA_SEND_TIMEOUT_MS on a busy machine) is the product shedding load, as in the ingest scenario: counted
 * in `refused`, its events left out of the rate.
 */
const pass = async (
  p: ProtocolBench,
  sender: ProtocolSender,
  batches: number,
  producerUrl: string,
  refused: { count: number; first?: string },
  producerPid: number,
): Promise<PassResult> => {
  const before = p.unacked ? await ackedEvents(producerUrl) : 0;
  const progress = phase(`protocols: ${p.name}`, batches, "batches");
  const cpuBefore = cpuSeconds(producerPid);
  const started = performance.now();
  const cpuPerEvent = (events: number): number => ((cpuSeconds(producerPid) - cpuBefore) * 1e6) / events;
  const out = await closedLoop(batches, CONCURRENCY, (i) => sender.send(i), progress);
  progress.done();
  if (out.failures === batches || (p.unacked && out.failures))
    throw new Error(`${p.name}: ${out.failures} batches failed: ${out.firstError}`);
  if (out.failures) {
    refused.count += out.failures;
    refused.first ??= `${p.name}: ${out.firstError}`;
  }
  if (!p.unacked) {
    const sent = (batches - out.failures) * BATCH;
    return { eventsPerS: sent / out.elapsedS, producerCpuUsPerEvent: cpuPerEvent(batches * BATCH) };
  }
  const until = Date.now() + 120_000;
  while ((await ackedEvents(producerUrl)) < before + batches * BATCH) {
    if (Date.now() > until) throw new Error(`${p.name}: the topic did not receive every event in 120 s`);
    await Bun.sleep(20);
  }
  return {
    eventsPerS: (batches * BATCH) / ((performance.now() - started) / 1000),
    producerCpuUsPerEvent: cpuPerEvent(batches * BATCH),
  };
};

export const protocols = async (opts: BenchOptions) => {
  const res = new ResultBuilder("protocols", opts);
  const events = opts.tiny ? 3 * BATCH : 100 * BATCH;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 3);
  const all = [native, ...PROTOCOL_BENCHES];
  Object.assign(res.params, {
    eventsPerRoundPerProtocol: events,
    batchEvents: BATCH,
    rounds,
    concurrency: CONCURRENCY,
    kafkaSendTimeoutMs: SEND_TIMEOUT_MS,
    protocols: all.map((p) => p.name).join(","),
  });
  const gen = phase("protocols: generating events", events, "events");
  const data = generateArray({ count: events, messageBytes: 250, seed: 17 });
  gen.done();
  const batches = Array.from({ length: events / BATCH }, (_, i) => data.slice(i * BATCH, (i + 1) * BATCH));

  const topic = `bench_protocols_${runId()}`;
  await createTopic(topic, 6);
  const syslogPort = freePort();
  const producer = startRole("producer", {
    KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "6",
    SYSLOG_PORT: String(syslogPort),
    // The machine is shared: a generous send bound keeps a busy moment from opening the breaker mid-run,
    // for every protocol alike (what is compared is the protocols, not the shedding).
    KAFKA_SEND_TIMEOUT_MS: SEND_TIMEOUT_MS,
  });
  const target = { producerUrl: `http://127.0.0.1:${producer.ports.producer}`, syslogPort };
  const rates = new Map<string, number[]>(all.map((p) => [p.name, []]));
  const cpus = new Map<string, number[]>(all.map((p) => [p.name, []]));
  const senders = new Map<string, ProtocolSender>();
  const refused: { count: number; first?: string } = { count: 0 };
  try {
    await waitFor(`${target.producerUrl}/producer/api/logs/health`, 60_000, producer);
    for (const p of all) senders.set(p.name, await p.prepare(batches, target));
    // Warm-up: connections, metadata, JIT, for every protocol.
    for (const p of all) {
      const sender = senders.get(p.name) as ProtocolSender;
      await pass(p, sender, Math.min(2, batches.length), target.producerUrl, refused, producer.pid);
    }
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so drift on the shared machine favours no protocol.
      const order = r % 2 === 0 ? all : [...all].reverse();
      for (const p of order) {
        const sender = senders.get(p.name) as ProtocolSender;
        const { eventsPerS, producerCpuUsPerEvent } = await pass(
          p,
          sender,
          batches.length,
          target.producerUrl,
          refused,
          producer.pid,
        );
        rates.get(p.name)?.push(eventsPerS);
        cpus.get(p.name)?.push(producerCpuUsPerEvent);
        note(
          `protocols ${r + 1}/${rounds}: ${p.name} ${Math.round(eventsPerS)} events/s, ` +
            `producer CPU ${producerCpuUsPerEvent.toFixed(1)} µs/event`,
        );
      }
    }
    res.params.refusedBatches = refused.count;
    if (refused.count) res.notes.push(`${refused.count} batches were refused (503): ${refused.first}`);
  } finally {
    for (const s of senders.values()) await s.close?.();
    const stopped = await producer.stop();
    res.rss("producer", stopped.peakRssBytes);
    res.params.producerCpuSeconds = stopped.cpuSeconds;
    await deleteTopics([topic]);
  }
  const reference = rates.get(native.name) ?? [];
  for (const p of PROTOCOL_BENCHES)
    res.comparisons.push(
      compare({
        name: `${p.name} events/s (vs native batch API)`,
        unit: "events/s",
        better: "higher",
        referenceName: "native batch API, same events and producer",
        ...(p.goal !== undefined ? { goal: p.goal } : {}),
        rounds: { ours: rates.get(p.name) ?? [], reference },
      }),
    );
  const referenceCpu = cpus.get(native.name) ?? [];
  for (const p of PROTOCOL_BENCHES)
    res.comparisons.push(
      compare({
        name: `${p.name} producer CPU per event (vs native batch API)`,
        unit: "µs/event",
        better: "lower",
        referenceName: "native batch API, same events and producer",
        rounds: { ours: cpus.get(p.name) ?? [], reference: referenceCpu },
      }),
    );
  for (const p of all) {
    const xs = [...(rates.get(p.name) ?? [])].sort((a, b) => a - b);
    res.figures.push(
      figure({
        name: `${p.name} events/s (median)`,
        unit: "events/s",
        value: xs[Math.floor((xs.length - 1) / 2)] ?? 0,
      }),
    );
  }
  return res.build();
};
