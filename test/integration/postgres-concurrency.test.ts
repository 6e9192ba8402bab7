// Two PostgreSQL writers at once: overlapping batches are stored exactly once and seq follows commit order.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { SourcedEvent, WriteBatch } from "../../src/ports/log-store.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { nextOffsetsOf } from "../helpers/write-batch.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const cfg = testPostgresConfig();

const BATCHES = 40;
const PER_BATCH = 100;
const now = Date.now();

const eventsOf = (batch: number): LogEvent[] =>
  Array.from({ length: PER_BATCH }, (_, i) => ({
    id: `b${batch}-e${i}`,
    level: "INFO",
    message: `batch ${batch} event ${i}`,
    source: `s${i % 5}`,
    timestamp: now - (batch * PER_BATCH + i) * 10,
    metadata: null,
  }));

/** Each writer reads its own partition; the overlap is in the ids (a redelivery to another consumer). */
const batchFor = (batch: number, partition: number, offset: number): WriteBatch => {
  // Shuffled, so the two writers meet the same ids in different orders.
  const events = eventsOf(batch).sort(() => Math.random() - 0.5);
  const sourced: SourcedEvent[] = events.map((event, i) => ({
    event,
    partition,
    offset: String(offset + i),
  }));
  return {
    group: "g",
    topic: "logs",
    events: sourced,
    nextOffsets: new Map([[partition, String(offset + PER_BATCH)]]),
  };
};

describe("postgres store with two concurrent writers", () => {
  const schema = uniqueName("t");
  let a: PostgresStore;
  let b: PostgresStore;
  let reader: PostgresStore;

  beforeAll(async () => {
    a = createPostgresStore(cfg, { schema });
    b = createPostgresStore(cfg, { schema });
    reader = createPostgresStore(cfg, { schema });
    await Promise.all([a.writer.start(), b.writer.start()]);
    await reader.reader.start();
  });
  afterAll(async () => {
    await reader.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await Promise.all([a.writer.stop(), b.writer.stop(), reader.reader.stop()]);
  });

  it("stores overlapping batches once, and a live tail following seq misses nothing", async () => {
    // A writes batches 0..29, B writes 39..10 (backwards): batches 10..29 reach both.
    const runA = (async () => {
      const results = [];
      for (let i = 0; i < 30; i++) results.push(await a.writer.write(batchFor(i, 0, i * PER_BATCH)));
      return results;
    })();
    const runB = (async () => {
      const results = [];
      for (let i = 39, n = 0; i >= 10; i--, n++)
        results.push(await b.writer.write(batchFor(i, 1, n * PER_BATCH)));
      return results;
    })();

    // The tail reads seq > last while the writers commit: a smaller seq committed late would be skipped.
    let writing = true;
    const tailed: number[] = [];
    const ids: string[] = [];
    const follow = async () => {
      let last = 0;
      for (;;) {
        const done = !writing;
        const rows = await reader.reader.tail({ afterSeq: last, levels: [], sources: [], limit: 250 });
        for (const r of rows) {
          tailed.push(r.seq);
          ids.push(r.id);
        }
        if (rows.length) last = (rows[rows.length - 1] as { seq: number }).seq;
        if (done && rows.length === 0) return;
      }
    };
    const tailing = follow();
    const [resultsA, resultsB] = await Promise.all([runA, runB]);
    writing = false;
    await tailing;

    const all = [...resultsA, ...resultsB];
    expect(all.reduce((n, r) => n + r.inserted, 0)).toBe(BATCHES * PER_BATCH);
    expect(all.reduce((n, r) => n + r.duplicates, 0)).toBe(20 * PER_BATCH);

    const [count] = await reader.sql<{ n: string; distinct_ids: string }[]>`
      select count(*) as n, count(distinct id) as distinct_ids from log_events`;
    expect(Number(count?.n)).toBe(BATCHES * PER_BATCH);
    expect(Number(count?.distinct_ids)).toBe(BATCHES * PER_BATCH);

    // Every row reached the tail exactly once, in increasing seq, and seq has no gaps.
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(BATCHES * PER_BATCH);
    expect(tailed).toEqual(Array.from({ length: BATCHES * PER_BATCH }, (_, i) => i + 1));
    expect(await reader.reader.watermark()).toBe(BATCHES * PER_BATCH);

    expect(nextOffsetsOf(await a.writer.committedPositions("g", "logs"))).toEqual(
      new Map([
        [0, String(30 * PER_BATCH)],
        [1, String(30 * PER_BATCH)],
      ]),
    );
    const stats = await reader.reader.stats({
      start: now - 3_600_000,
      end: now,
      bucketMs: 3_600_000,
      maxSources: 100,
    });
    expect(stats.totalLogs).toBe(BATCHES * PER_BATCH);
  });
});

describe("postgres writers that overlap", () => {
  const schema = uniqueName("t");
  let a: PostgresStore;
  let b: PostgresStore;
  let reader: PostgresStore;

  beforeAll(async () => {
    a = createPostgresStore(cfg, { schema, applicationName: `${schema}_a` });
    b = createPostgresStore(cfg, { schema, applicationName: `${schema}_b` });
    reader = createPostgresStore(cfg, { schema, applicationName: `${schema}_r` });
    await Promise.all([a.writer.start(), b.writer.start()]);
    await reader.reader.start();
  });
  afterAll(async () => {
    await reader.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await Promise.all([a.writer.stop(), b.writer.stop(), reader.reader.stop()]);
  });

  /** n events of one source in one minute, so that two batches share no rollup row. */
  const batch = (name: string, minute: number, partition: number): WriteBatch => ({
    group: `g_${name}`,
    topic: "logs",
    events: Array.from({ length: 100 }, (_, i) => ({
      event: {
        id: `${name}-${i}`,
        level: "INFO" as const,
        message: `${name} event ${i}`,
        source: `src-${name}`,
        timestamp: minute + i,
        metadata: null,
      },
      partition,
      offset: String(i),
    })),
    nextOffsets: new Map([[partition, "100"]]),
  });

  it("a writer commits while an earlier one is still writing, and readers stop below the earlier one's rows", async () => {
    const minute = Math.floor(now / 60_000) * 60_000 - 10 * 60_000;
    // Another session holds the offsets row A will write last: A takes its seqs, COPYs, then waits there.
    const blocker = await reader.sql.reserve();
    await blocker`begin`;
    await blocker`insert into consumer_offsets (consumer_group, topic, partition, next_offset)
      values ('g_a', 'logs', 0, '0')`;
    const writingA = a.writer.write(batch("a", minute, 0));
    let waiting = 0;
    for (let i = 0; i < 500 && waiting === 0; i++) {
      await Bun.sleep(20);
      const [row] = await reader.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
        where application_name = ${`${schema}_a-writer`} and wait_event_type = 'Lock'`;
      waiting = row?.n ?? 0;
    }
    expect(waiting).toBe(1);
    const [inFlight] = await reader.sql<{ lo: string }[]>`select lo from log_writes_in_flight`;
    expect(Number(inFlight?.lo)).toBe(1);

    // B commits while A is in flight: it neither waits for A's commit nor shows past A's rows.
    const wroteB = await Promise.race([
      b.writer.write(batch("b", minute + 60_000, 1)),
      Bun.sleep(15_000).then(() => "B waited for A"),
    ]);
    expect(wroteB).toEqual({ inserted: 100, duplicates: 0 });
    const [committed] = await reader.sql<{ n: number; lo: string }[]>`
      select count(*)::int as n, min(seq) as lo from log_events`;
    expect({ n: committed?.n, lo: Number(committed?.lo) }).toEqual({ n: 100, lo: 101 });
    expect(await reader.reader.watermark()).toBe(0);
    expect(await reader.reader.tail({ afterSeq: 0, levels: [], sources: [], limit: 500 })).toEqual([]);

    await blocker`rollback`;
    blocker.release();
    expect(await writingA).toEqual({ inserted: 100, duplicates: 0 });
    expect(await reader.reader.watermark()).toBe(200);
    const tailed = await reader.reader.tail({ afterSeq: 0, levels: [], sources: [], limit: 500 });
    expect(tailed.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(tailed.slice(0, 100).every((e) => e.id.startsWith("a-"))).toBe(true);
    const [left] = await reader.sql<{ n: number }[]>`select count(*)::int as n from log_writes_in_flight`;
    expect(left?.n).toBe(0);
  });
});
