// Runs the consumer role over a pre-filled topic into an empty database until `expected` rows are committed.

import postgres from "postgres";
import { visibleWatermark } from "../../src/adapters/store/postgres/reader.ts";
import { DisturbedError } from "../lib/outage.ts";
import { startRole } from "../lib/proc.ts";
import { phase } from "../lib/progress.ts";
import { dbUrl, KAFKA_BROKERS } from "../lib/services.ts";

export interface ConsumeAllOptions {
  db: string;
  topic: string;
  group: string;
  expected: number;
  batchSize: number;
  label: string;
  deadlineMs?: number;
  /** No new row for this long (after the first) fails the round. */
  stallMs?: number;
  /** Consumer processes in the group (default 1). */
  consumers?: number;
}

export const consumeAll = async (o: ConsumeAllOptions) => {
  const sql = postgres(dbUrl(o.db), { max: 1, onnotice: () => {} });
  const p = phase(o.label, o.expected, "rows");
  const started = performance.now();
  const consumers = Array.from({ length: o.consumers ?? 1 }, () =>
    startRole("consumer", {
      POSTGRES_URL: dbUrl(o.db),
      KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: o.topic,
      KAFKA_CONSUMER_GROUP: o.group,
      CONSUMER_BATCH_SIZE: String(o.batchSize),
    }),
  );
  const stopAll = async () => {
    const all = await Promise.all(consumers.map((c) => c.stop()));
    return {
      peakRssBytes: Math.max(...all.map((s) => s.peakRssBytes)),
      cpuSeconds: all.reduce((n, s) => n + s.cpuSeconds, 0),
    };
  };
  const until = Date.now() + (o.deadlineMs ?? 900_000);
  let seq = 0;
  let pollErrors = 0;
  let movedAt = Date.now();
  let seconds = Number.NaN;
  let stopped: Awaited<ReturnType<typeof stopAll>> | undefined;
  try {
    while (Date.now() < until) {
      // The visible watermark: rows up to it are committed (one consumer, no failed write: their count).
      const now = await visibleWatermark(sql).catch(() => {
        // Before the consumer's migrations this is expected; later it means PostgreSQL went away.
        if (seq > 0) pollErrors++;
        return undefined;
      });
      // Once PostgreSQL went away mid-run the timing is void (and the consumer may not recover: see the report).
      if (pollErrors && now !== undefined) throw new DisturbedError(`PostgreSQL went away during ${o.label}`);
      if (now !== undefined) {
        if (now !== seq) movedAt = Date.now();
        seq = now;
      }
      // A consumer that stores nothing for a minute with rows still to come has stalled (seen after a
      // kafkajs crash/restart: one partition's lag never drains) — fail the round instead of waiting 15 min.
      if (seq > 0 && Date.now() - movedAt > (o.stallMs ?? 60_000))
        throw new Error(
          `consumer stalled at ${seq}/${o.expected} rows for ${(o.stallMs ?? 60_000) / 1000} s`,
        );
      p.set(seq);
      if (seq >= o.expected) {
        seconds = (performance.now() - started) / 1000;
        break;
      }
      const exited = consumers.find((c) => c.exitCode() !== null);
      if (exited) throw new Error(`consumer exited: ${exited.stderr().slice(-2000)}`);
      await Bun.sleep(100);
    }
    if (!Number.isFinite(seconds) && pollErrors)
      throw new DisturbedError(`PostgreSQL stayed away during ${o.label}`);
    if (!Number.isFinite(seconds))
      throw new Error(
        `only ${seq}/${o.expected} rows after the deadline\n${consumers[0]?.stderr().slice(-2000)}`,
      );
    stopped = await stopAll();
    const [row] = await sql<{ n: string }[]>`select count(*) as n from log_events`;
    return {
      seconds,
      rows: Number(row?.n ?? 0),
      peakRssBytes: stopped.peakRssBytes,
      cpuSeconds: stopped.cpuSeconds,
      /** Polls that failed after rows started arriving: PostgreSQL was unreachable (shared machine); the round is suspect. */
      pollErrors,
    };
  } finally {
    p.done();
    if (!stopped) await stopAll();
    await sql.end();
  }
};
