// Where a stored row's PostgreSQL time goes: the consumer's writer stores the same batches into a fresh
// database with logproc's schema, then into fresh databases with one index left out each; the server's CPU
// (every PostgreSQL process, from /proc) per row, and what each index costs as the difference. The claim of
// ids (log_event_ids) is timed apart, by one COPY as the writer claims fresh ids and one by one as it claims
// a batch with some claimed before.
// Usage: bun bench/profile-store.ts [rows] [batch]   (default 200,000 rows in batches of 10,000)
// ROUNDS=N (default 3); GIN_VARIANTS=1 adds the GIN pending list and work_mem settings tried (not taken).

import { createPostgresStore } from "../src/adapters/store/postgres/store.ts";
import { encode } from "../src/adapters/store/postgres/write-rows.ts";
import { claimEach, claimIds } from "../src/adapters/store/postgres/write-steps.ts";
import type { LogEvent } from "../src/domain/log-event.ts";
import type { SourcedEvent, WriteBatch } from "../src/ports/log-store.ts";
import { postgresPids } from "./lib/cpu.ts";
import { generateArray } from "./lib/data.ts";
import { cpuSeconds } from "./lib/proc.ts";
import { createDatabase, dbUrl, dropDatabase, runId, storeConfig } from "./lib/services.ts";
import { median } from "./lib/stats.ts";

const rows = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 10_000);
const id = runId();

/** CPU seconds of every PostgreSQL process now (backends come and go; see bench/lib/cpu.ts). */
const serverCpu = (): number => postgresPids().reduce((n, pid) => n + (cpuSeconds(pid) || 0), 0);

/** Leaving an index out of the schema: what its upkeep costs is the difference. */
const VARIANTS: [string, ((db: string) => string) | undefined][] = [
  ["logproc's schema", undefined],
  ["without the GIN index on tsv", () => "drop index log_events_tsv"],
  ["without (source, ts, id)", () => "drop index log_events_source_ts"],
  ["without (level, ts, id) where not INFO", () => "drop index log_events_level_ts"],
  ["without (seq)", () => "drop index log_events_seq"],
  ["without (ts, id)", () => "drop index log_events_ts_id"],
];
/** gin_pending_list_limit is set on each partition's index (a partitioned index takes no storage parameters). */
const perPartitionGin = (kb: number) => `do $$ declare r record; begin
  for r in select relid from pg_partition_tree('log_events_tsv') where isleaf loop
    execute format('alter index %s set (gin_pending_list_limit = ${kb})', r.relid::regclass);
  end loop; end $$`;
if (process.env.GIN_VARIANTS)
  VARIANTS.push(
    ["work_mem 64 MB", (db) => `alter database ${db} set work_mem = '64MB'`],
    [
      "GIN pending list 64 MB, work_mem 64 MB",
      (db) => `${perPartitionGin(65_536)}; alter database ${db} set work_mem = '64MB'`,
    ],
    ["GIN pending list 1 MB", () => perPartitionGin(1024)],
    ["GIN pending list 256 kB", () => perPartitionGin(256)],
  );

const events: LogEvent[] = generateArray({ count: rows, messageBytes: 250, seed: 5 });
const batches: WriteBatch[] = [];
for (let at = 0; at < rows; at += batchSize) {
  const slice = events.slice(at, at + batchSize);
  const sourced: SourcedEvent[] = slice.map((event, i) => ({ event, partition: 0, offset: String(at + i) }));
  batches.push({
    group: "profile",
    topic: "profile",
    events: sourced,
    nextOffsets: new Map([[0, String(at + slice.length)]]),
  });
}

interface Measured {
  name: string;
  seconds: number;
  serverUs: number;
}

const measure = async (
  name: string,
  alter: ((db: string) => string) | undefined,
  n: number,
): Promise<Measured> => {
  const db = `profile_store_${id}_${n}`;
  await createDatabase(db);
  const store = createPostgresStore(storeConfig(dbUrl(db)));
  try {
    await store.writer.start();
    if (alter) await store.sql.unsafe(alter(db));
    // The first batch warms the connections and the partition: not counted.
    const [first, ...rest] = batches;
    if (first) await store.writer.write(first);
    const counted = rest.reduce((k, b) => k + b.events.length, 0);
    const cpu0 = serverCpu();
    const t0 = performance.now();
    for (const batch of rest) await store.writer.write(batch);
    const seconds = (performance.now() - t0) / 1000;
    const serverUs = ((serverCpu() - cpu0) * 1e6) / counted;
    console.log(`${name}: ${(counted / seconds).toFixed(0)} rows/s, server ${serverUs.toFixed(1)} µs/row`);
    return { name, seconds, serverUs };
  } finally {
    await store.writer.stop();
    await dropDatabase(db).catch(() => {});
  }
};

/**
 * The claim of ids alone into a fresh migrated database, per row: by the writer's own step (write-steps.ts,
 * one COPY), or one by one as when some were claimed before (its INSERT … ON CONFLICT, on the sorted ids).
 */
const measureClaim = async (how: "copy" | "one by one"): Promise<number> => {
  const db = `profile_store_${id}_claim`;
  await createDatabase(db);
  const store = createPostgresStore(storeConfig(dbUrl(db)));
  try {
    await store.writer.start();
    const tx = await store.sql.reserve();
    const claim = async (b: WriteBatch) => {
      const encoded = b.events.map(encode);
      await tx`begin`;
      if (how === "copy") await claimIds(tx, b, encoded, 30_000);
      else
        await claimEach(
          tx,
          encoded.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)),
        );
      await tx`commit`;
    };
    const [first, ...rest] = batches;
    if (first) await claim(first);
    const counted = rest.reduce((k, b) => k + b.events.length, 0);
    const cpu0 = serverCpu();
    for (const b of rest) await claim(b);
    const us = ((serverCpu() - cpu0) * 1e6) / counted;
    tx.release();
    console.log(`claim of ids alone, ${how}: server ${us.toFixed(1)} µs/row`);
    return us;
  } finally {
    await store.writer.stop();
    await dropDatabase(db).catch(() => {});
  }
};

/** Rounds over every variant, in turn forwards and backwards: a slower stretch of the machine hits all alike. */
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const byVariant = new Map<string, number[]>(VARIANTS.map(([name]) => [name, []]));
const claims = { copy: [] as number[], "one by one": [] as number[] };
let n = 0;
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const [name, alter] of order) byVariant.get(name)?.push((await measure(name, alter, n++)).serverUs);
  for (const how of round % 2 === 0 ? (["copy", "one by one"] as const) : (["one by one", "copy"] as const))
    claims[how].push(await measureClaim(how));
}
const full = median(byVariant.get(VARIANTS[0]?.[0] ?? "") ?? []);
console.log(
  `\n${rows} rows in batches of ${batchSize}, medians of ${ROUNDS} rounds; PostgreSQL's CPU per stored row (all its processes):\n`,
);
console.log("| write | server µs/row (rounds) | the index's upkeep |\n|---|---:|---:|");
for (const [name, xs] of byVariant) {
  const m = median(xs);
  const share = m === full && name === VARIANTS[0]?.[0] ? "" : `${(full - m).toFixed(1)} µs`;
  console.log(`| ${name} | ${m.toFixed(1)} (${xs.map((x) => x.toFixed(1)).join(", ")}) | ${share} |`);
}
for (const [how, xs] of Object.entries(claims))
  console.log(
    `| the claim of ids alone (log_event_ids), ${how} | ${median(xs).toFixed(1)} (${xs.map((x) => x.toFixed(1)).join(", ")}) | |`,
  );
