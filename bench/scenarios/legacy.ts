// legacy: our consumer into our schema against what we replace — per-row INSERTs, 50 per transaction, into the
// original design's log_events (varchar PK, 4 btree indexes, GIN on metadata) — same events, same run.

import postgres from "postgres";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { fill } from "../lib/fill.ts";
import { retryOnOutage } from "../lib/outage.ts";
import { note, phase } from "../lib/progress.ts";
import { compare } from "../lib/results.ts";
import { createDatabase, createTopic, dbUrl, deleteTopics, dropDatabase, runId } from "../lib/services.ts";
import { consumeAll } from "./consume-all.ts";

const LEGACY_DDL = `
create table log_events (
  id varchar(36) primary key,
  level varchar(10),
  message text,
  source varchar(100),
  timestamp timestamp,
  metadata jsonb,
  created_at timestamp default now()
);
create index idx_log_events_timestamp on log_events (timestamp);
create index idx_log_events_level on log_events (level);
create index idx_log_events_source on log_events (source);
create index idx_log_events_timestamp_level on log_events (timestamp, level);
create index idx_log_events_metadata on log_events using gin (metadata);
`;

const PER_TX = 50;

/** The replaced design's write path: one INSERT per row, 50 rows per transaction, one after another. */
const legacyInsert = async (db: string, events: LogEvent[], label: string): Promise<number> => {
  const sql = postgres(dbUrl(db), { max: 1, onnotice: () => {} });
  const p = phase(label, events.length, "rows");
  try {
    await sql`truncate log_events`;
    const t = performance.now();
    for (let i = 0; i < events.length; i += PER_TX) {
      const chunk = events.slice(i, i + PER_TX);
      await sql.begin(async (tx) => {
        for (const e of chunk)
          await tx`insert into log_events (id, level, message, source, timestamp, metadata)
            values (${e.id}, ${e.level}, ${e.message}, ${e.source}, ${new Date(e.timestamp)}, ${e.metadata === null ? null : tx.json(e.metadata as postgres.JSONValue)})`;
      });
      p.tick(chunk.length);
    }
    const seconds = (performance.now() - t) / 1000;
    const [row] = await sql<{ n: string }[]>`select count(*) as n from log_events`;
    if (Number(row?.n) !== events.length)
      throw new Error(`legacy table holds ${row?.n} of ${events.length} rows`);
    return seconds;
  } finally {
    p.done();
    await sql.end();
  }
};

export const legacy = async (opts: BenchOptions) => {
  const res = new ResultBuilder("legacy", opts);
  const events = opts.tiny ? 2_000 : 100_000;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 2);
  const batchSize = 10_000;
  Object.assign(res.params, {
    events,
    rounds,
    CONSUMER_BATCH_SIZE: batchSize,
    legacyRowsPerTransaction: PER_TX,
  });
  const id = runId();
  const topic = `bench_legacy_${id}`;
  const refDb = `logproc_bench_legacy_ref_${id}`;
  const ours: number[] = [];
  const ref: number[] = [];
  const kept: LogEvent[] = [];
  let countsMatch = true;
  try {
    await createTopic(topic, 6);
    await fill({
      count: events,
      seed: 41,
      topic,
      label: "legacy: filling topic",
      onChunk: (c) => kept.push(...c),
    });
    await createDatabase(refDb);
    {
      const sql = postgres(dbUrl(refDb), { max: 1, onnotice: () => {} });
      await sql.unsafe(LEGACY_DDL);
      await sql.end();
    }
    for (let r = 0; r < rounds; r++) {
      const db = `logproc_bench_legacy_${id}_${r}`;
      await retryOnOutage(`legacy round ${r + 1}`, async () => {
        await createDatabase(db);
        try {
          const out = await consumeAll({
            db,
            topic,
            group: `bench_legacy_${id}_${r}_${runId()}`,
            expected: events,
            batchSize,
            label: `legacy ${r + 1}/${rounds}: consumer role`,
          });
          ours.push(events / out.seconds);
          if (out.pollErrors)
            res.notes.push(`round ${r + 1}: PostgreSQL was unreachable during the run (shared machine)`);
          countsMatch &&= out.rows === events;
          res.rss("consumer", out.peakRssBytes);
        } finally {
          await dropDatabase(db);
        }
      });
      const seconds = await retryOnOutage(`legacy round ${r + 1}`, () =>
        legacyInsert(refDb, kept, `legacy ${r + 1}/${rounds}: per-row INSERTs`),
      );
      ref.push(events / seconds);
    }
  } finally {
    await dropDatabase(refDb);
    await deleteTopics([topic]);
  }
  res.params.countsMatch = countsMatch;
  res.comparisons.push(
    compare({
      name: "rows/s: speed-up over the replaced design",
      unit: "rows/s",
      better: "higher",
      referenceName: "per-row INSERT ×50/tx into the old schema",
      rounds: { ours, reference: ref },
    }),
  );
  res.notes.push(
    "ours is timed from process start (incl. migrations and Kafka group join); the old design's inserts are timed from the first INSERT.",
  );
  note(`legacy: ours ${res.comparisons[0]?.ours} rows/s vs ${res.comparisons[0]?.reference} rows/s`);
  return res.build();
};
