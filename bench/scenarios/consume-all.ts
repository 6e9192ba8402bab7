// Runs the consumer role over a pre-filled topic into an empty database until `expected` rows are committed.

import postgres from "postgres";
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
}

export const consumeAll = async (o: ConsumeAllOptions) => {
  const sql = postgres(dbUrl(o.db), { max: 1, onnotice: () => {} });
  const p = phase(o.label, o.expected, "rows");
  const started = performance.now();
  const consumer = startRole("consumer", {
    POSTGRES_URL: dbUrl(o.db),
    KAFKA_BOOTSTRAP_SERVERS: KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: o.topic,
    KAFKA_CONSUMER_GROUP: o.group,
    CONSUMER_BATCH_SIZE: String(o.batchSize),
  });
  const until = Date.now() + (o.deadlineMs ?? 900_000);
  let seq = 0;
  let pollErrors = 0;
  let movedAt = Date.now();
  let seconds = Number.NaN;
  let stopped: Awaited<ReturnType<typeof consumer.stop>> | undefined;
  try {
    while (Date.now() < until) {
      // The watermark is the count of committed rows (it advances in the rows' own transaction).
      const rows = await sql<{ seq: string }[]>`select seq from log_watermark`.catch(() => {
        // Before the consumer's migrations this is expected; later it means PostgreSQL went away.
        if (seq > 0) pollErrors++;
        return [];
      });
      // Once PostgreSQL went away mid-run the timing is void (and the consumer may not recover: see the report).
      if (pollErrors && rows.length) throw new DisturbedError(`PostgreSQL went away during ${o.label}`);
      if (rows[0]) {
        const now = Number(rows[0].seq);
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
      if (consumer.exitCode() !== null) throw new Error(`consumer exited: ${consumer.stderr().slice(-2000)}`);
      await Bun.sleep(100);
    }
    if (!Number.isFinite(seconds) && pollErrors)
      throw new DisturbedError(`PostgreSQL stayed away during ${o.label}`);
    if (!Number.isFinite(seconds))
      throw new Error(`only ${seq}/${o.expected} rows after the deadline\n${consumer.stderr().slice(-2000)}`);
    stopped = await consumer.stop();
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
    if (!stopped) await consumer.stop();
    await sql.end();
  }
};
