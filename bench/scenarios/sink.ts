// sink: a topic pre-filled with full-size events → the consumer role → a fresh PostgreSQL database (time from
// start until every row is committed), against psql \copy of the same rows into an identical empty table.

import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchOptions, ResultBuilder } from "../lib/context.ts";
import { fill, ROW_COLUMNS } from "../lib/fill.ts";
import { retryOnOutage } from "../lib/outage.ts";
import { run } from "../lib/proc.ts";
import { note, phase } from "../lib/progress.ts";
import { compare, figure } from "../lib/results.ts";
import {
  createDatabase,
  createTopic,
  dbUrl,
  deleteTopics,
  dropDatabase,
  migrateProductSchema,
  PG_BASE,
  runId,
} from "../lib/services.ts";
import { consumeAll } from "./consume-all.ts";

/** psql \copy of a rows file into log_events; returns seconds. */
export const psqlCopy = async (db: string, file: string): Promise<number> => {
  const t = performance.now();
  await run([
    "psql",
    `${PG_BASE}/${db}`,
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    `\\copy log_events (${ROW_COLUMNS}) from '${file}'`,
  ]);
  return (performance.now() - t) / 1000;
};

export const sink = async (opts: BenchOptions) => {
  const res = new ResultBuilder("sink", opts);
  const events = opts.tiny ? 5_000 : 1_000_000;
  const rounds = opts.rounds ?? (opts.tiny ? 1 : 3);
  const batchSize = 10_000;
  Object.assign(res.params, { events, rounds, CONSUMER_BATCH_SIZE: batchSize, partitions: 6 });
  const id = runId();
  const topic = `bench_sink_${id}`;
  const rowsFile = join(tmpdir(), `logproc-bench-sink-${id}.tsv`);
  const refDb = `logproc_bench_sink_ref_${id}`;
  const ours: number[] = [];
  const ref: number[] = [];
  const countsOk: boolean[] = [];
  const disturbed: number[] = [];
  try {
    await createTopic(topic, 6);
    const filled = await fill({
      count: events,
      seed: 21,
      topic,
      rowsFile,
      label: "sink: filling topic + rows file",
    });
    res.params.avgRecordBytes = Math.round(filled.bytes / filled.count);
    await createDatabase(refDb);
    await migrateProductSchema(refDb, [filled.first, filled.last]);
    // The fill leaves hundreds of MB of dirty pages (topic, rows file): written back now, not during round 1.
    await run(["sync"]);
    for (let r = 0; r < rounds; r++) {
      const runOurs = async () => {
        const db = `logproc_bench_sink_${id}_${r}`;
        await createDatabase(db);
        try {
          const out = await consumeAll({
            db,
            topic,
            group: `bench_sink_${id}_${r}_${runId()}`,
            expected: events,
            batchSize,
            label: `sink ${r + 1}/${rounds}: consumer role`,
          });
          if (out.pollErrors) {
            res.notes.push(
              `round ${r + 1}: PostgreSQL was unreachable during the run (another process stopped it); round left out of the median`,
            );
            disturbed.push(events / out.seconds);
          } else ours.push(events / out.seconds);
          countsOk.push(out.rows === events);
          res.rss("consumer", out.peakRssBytes);
          res.params.consumerCpuSeconds = out.cpuSeconds;
        } finally {
          await dropDatabase(db);
        }
      };
      const runRef = async () => {
        const p = phase(`sink ${r + 1}/${rounds}: psql \\copy`, 1, "runs");
        await run(["psql", dbUrl(refDb), "-c", "truncate log_events; checkpoint"]);
        const s = await psqlCopy(refDb, rowsFile);
        p.done();
        ref.push(events / s);
      };
      const label = `sink round ${r + 1}`;
      if (r % 2 === 0) {
        await retryOnOutage(label, runOurs);
        await retryOnOutage(label, runRef);
      } else {
        await retryOnOutage(label, runRef);
        await retryOnOutage(label, runOurs);
      }
    }
  } finally {
    rmSync(rowsFile, { force: true });
    await dropDatabase(refDb);
    await deleteTopics([topic]);
  }
  res.params.countsMatch = countsOk.every(Boolean);
  if (!ours.length) ours.push(...disturbed);
  res.comparisons.push(
    compare({
      name: "sink rows/s (Kafka → PostgreSQL)",
      unit: "rows/s",
      better: "higher",
      referenceName: "psql \\copy into the same DDL",
      goal: 0.8,
      rounds: { ours, reference: ref },
    }),
  );
  res.figures.push(figure({ name: "CONSUMER_BATCH_SIZE", unit: "events", value: batchSize }));
  note(`sink: ours ${res.comparisons[0]?.ours} rows/s, \\copy ${res.comparisons[0]?.reference} rows/s`);
  return res.build();
};
