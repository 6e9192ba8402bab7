// sink: a topic pre-filled with full-size events → the consumer role → a fresh PostgreSQL database (time from
// start until every row is committed), against psql \copy of the same rows into an identical empty table and
// into a bare table of the same columns (no index, no rollup). With --consumers N, N consumer processes of one
// group also write the same topic into a fresh database, beside one, in each round: the scale-out figure.

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

/** psql \copy of a rows file into a table (log_events by default); returns seconds. */
export const psqlCopy = async (db: string, file: string, table = "log_events"): Promise<number> => {
  const t = performance.now();
  await run([
    "psql",
    `${PG_BASE}/${db}`,
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    `\\copy ${table} (${ROW_COLUMNS}) from '${file}'`,
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
  const consumers = opts.consumers ?? 1;
  res.params.consumers = consumers;
  const ours: number[] = [];
  const oursN: number[] = [];
  const ref: number[] = [];
  const bare: number[] = [];
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
    // The same columns and NOT NULLs, nothing else: what the rows cost PostgreSQL without our schema.
    await run(["psql", dbUrl(refDb), "-c", "create table log_events_bare (like log_events)"]);
    // The fill leaves hundreds of MB of dirty pages (topic, rows file): written back now, not during round 1.
    await run(["sync"]);
    for (let r = 0; r < rounds; r++) {
      const runOurs = (n: number, into: number[]) => async () => {
        const db = `logproc_bench_sink_${id}_${r}_${n}`;
        await createDatabase(db);
        try {
          const out = await consumeAll({
            db,
            topic,
            group: `bench_sink_${id}_${r}_${n}_${runId()}`,
            expected: events,
            batchSize,
            consumers: n,
            label: `sink ${r + 1}/${rounds}: ${n} consumer role${n > 1 ? "s" : ""}`,
          });
          if (out.pollErrors) {
            res.notes.push(
              `round ${r + 1}: PostgreSQL was unreachable during the run (another process stopped it); round left out of the median`,
            );
            if (n === 1) disturbed.push(events / out.seconds);
          } else into.push(events / out.seconds);
          countsOk.push(out.rows === events);
          res.rss(n === 1 ? "consumer" : `consumer (${n} at once, largest)`, out.peakRssBytes);
          res.params[n === 1 ? "consumerCpuSeconds" : `consumerCpuSeconds_${n}`] = out.cpuSeconds;
        } finally {
          await dropDatabase(db);
        }
      };
      const runRef = (table: string, into: number[]) => async () => {
        const p = phase(`sink ${r + 1}/${rounds}: psql \\copy into ${table}`, 1, "runs");
        await run(["psql", dbUrl(refDb), "-c", `truncate ${table}; checkpoint`]);
        const s = await psqlCopy(refDb, rowsFile, table);
        p.done();
        into.push(events / s);
      };
      const steps = [
        runOurs(1, ours),
        ...(consumers > 1 ? [runOurs(consumers, oursN)] : []),
        runRef("log_events", ref),
        runRef("log_events_bare", bare),
      ];
      // A different order each round, so that no run always comes first after the fill or last.
      for (let i = 0; i < steps.length; i++)
        await retryOnOutage(`sink round ${r + 1}`, steps[(i + r) % steps.length] as () => Promise<void>);
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
    compare({
      name: "sink rows/s vs a bare table",
      unit: "rows/s",
      better: "higher",
      referenceName: "psql \\copy into a table of the same columns, no index",
      goal: 0.35,
      rounds: { ours, reference: bare },
    }),
    compare({
      name: "psql \\copy: logproc's DDL vs a bare table",
      unit: "rows/s",
      better: "higher",
      referenceName: "psql \\copy into a table of the same columns, no index",
      goal: 0.5,
      rounds: { ours: ref, reference: bare },
    }),
  );
  if (consumers > 1)
    res.comparisons.push(
      compare({
        name: `sink rows/s, ${consumers} consumer processes vs 1`,
        unit: "rows/s",
        better: "higher",
        referenceName: "1 consumer process, same topic and DDL",
        goal: 1,
        rounds: { ours: oursN, reference: ours },
      }),
    );
  res.figures.push(figure({ name: "CONSUMER_BATCH_SIZE", unit: "events", value: batchSize }));
  note(`sink: ours ${res.comparisons[0]?.ours} rows/s, \\copy ${res.comparisons[0]?.reference} rows/s`);
  return res.build();
};
