// The PostgreSQL write pipeline: events prepared ahead, the next batch staged on a second connection while the
// current one is written; whatever happens to either, every event is stored once and nothing stays locked.

import { afterEach, beforeEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { UnstorableError } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { encodeEvent } from "../../src/domain/wire.ts";
import type { BusRecord, DeadLetter } from "../../src/ports/log-bus.ts";
import type { SourcedEvent, WriteBatch } from "../../src/ports/log-store.ts";
import { createPersister } from "../../src/services/persist.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { nextOffsetsOf } from "../helpers/write-batch.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const cfg = testPostgresConfig();
const now = Date.now();

const eventsFor = (prefix: string, count: number): LogEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    level: i % 3 === 0 ? "WARN" : "INFO",
    message: `${prefix} event ${i} ${"padding ".repeat(i % 7)}`,
    source: `s${i % 4}`,
    timestamp: now - i * 1000,
    metadata: i % 2 ? { n: i } : null,
  }));

const batchOf = (events: LogEvent[], partition: number, from: number): WriteBatch => ({
  group: "g",
  topic: "logs",
  events: events.map((event, i): SourcedEvent => ({ event, partition, offset: String(from + i) })),
  nextOffsets: new Map([[partition, String(from + events.length)]]),
});

describe("postgres write pipeline", () => {
  let schema: string;
  let store: PostgresStore;
  beforeEach(async () => {
    schema = uniqueName("t");
    store = createPostgresStore(cfg, { schema, applicationName: schema });
    await store.writer.start();
    await store.reader.start();
  });
  afterEach(async () => {
    await store.writer.stop();
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.reader.stop();
  });

  const counts = async () => {
    const [row] = await store.sql<{ rows: number; ids: number; distinct_ids: number; seq: string }[]>`
      select (select count(*)::int from log_events) as rows, (select count(*)::int from log_event_ids) as ids,
        (select count(distinct id)::int from log_events) as distinct_ids, (select seq from log_watermark) as seq`;
    return row;
  };
  /** Transactions of this store's write pool still open (a staged one left behind would show here). */
  const openWriteTransactions = async () => {
    const [row] = await store.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where application_name = ${`${schema}-writer`} and state like 'idle in transaction%'`;
    return row?.n ?? -1;
  };
  const until = async (ok: () => Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error("condition not reached in 10 s");
      await Bun.sleep(20);
    }
  };
  /** Starts write(a) and stages b while it runs, as the persister does. */
  const writeWithStaged = async (a: WriteBatch, b: WriteBatch) => {
    const writing = store.writer.write(a);
    store.writer.stage?.(b);
    return writing;
  };

  it("stores a staged batch once write() gets it, with seq in commit order", async () => {
    const a = batchOf(eventsFor("a", 3000), 0, 0);
    const b = batchOf(eventsFor("b", 3000), 1, 0);
    expect(await writeWithStaged(a, b)).toEqual({ inserted: 3000, duplicates: 0 });
    // b's transaction was begun on the second connection and waits there with its ids claimed.
    await until(async () => (await openWriteTransactions()) === 1);
    expect(await store.sql`select 1 from log_event_ids where id = 'b-0'`).toHaveLength(0);
    expect(await store.writer.write(b)).toEqual({ inserted: 3000, duplicates: 0 });
    expect(await counts()).toEqual({ rows: 6000, ids: 6000, distinct_ids: 6000, seq: "6000" });
    const seqs = await store.sql<{ first: string; last: string; prefix: string }[]>`
      select min(seq)::text as first, max(seq)::text as last, left(id, 1) as prefix from log_events group by 3 order by 3`;
    expect([...seqs]).toEqual([
      { first: "1", last: "3000", prefix: "a" },
      { first: "3001", last: "6000", prefix: "b" },
    ]);
    expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(
      new Map([
        [0, "3000"],
        [1, "3000"],
      ]),
    );
  });

  it("a staged batch that shares ids with the one being written waits for it and skips them", async () => {
    const shared = eventsFor("s", 2000);
    const a = batchOf(shared, 0, 0);
    // The same events again from another partition (a redelivery to another consumer), plus new ones.
    const b = batchOf([...shared.slice(500), ...eventsFor("n", 500)], 1, 0);
    expect(await writeWithStaged(a, b)).toEqual({ inserted: 2000, duplicates: 0 });
    expect(await store.writer.write(b)).toEqual({ inserted: 500, duplicates: 1500 });
    expect(await counts()).toEqual({ rows: 2500, ids: 2500, distinct_ids: 2500, seq: "2500" });
  });

  it("a write of other events drops the staged transaction first, so nothing waits on its ids", async () => {
    const a = batchOf(eventsFor("a", 1000), 0, 0);
    const b = batchOf(eventsFor("b", 1000), 1, 0);
    await writeWithStaged(a, b);
    // Not b itself but part of it (as when a batch is split): it must not block on b's claimed ids.
    const part: WriteBatch = { ...b, events: b.events.slice(0, 400), nextOffsets: new Map() };
    expect(await store.writer.write(part)).toEqual({ inserted: 400, duplicates: 0 });
    expect(await openWriteTransactions()).toBe(0);
    expect(await store.writer.write(b)).toEqual({ inserted: 600, duplicates: 400 });
    expect(await counts()).toEqual({ rows: 2000, ids: 2000, distinct_ids: 2000, seq: "2000" });
  });

  it("a failed write drops the staged transaction; retrying both stores everything once", async () => {
    await store.sql.unsafe(`create function refuse_row() returns trigger language plpgsql as $$
      begin if new.message like 'a event 700 %' then raise exception 'refused by test' using errcode = '22023'; end if;
      return new; end $$`);
    await store.sql.unsafe(
      "create trigger refuse_row before insert on log_events for each row execute function refuse_row()",
    );
    const a = batchOf(eventsFor("a", 1000), 0, 0);
    const b = batchOf(eventsFor("b", 1000), 1, 0);
    await expect(writeWithStaged(a, b)).rejects.toBeInstanceOf(UnstorableError);
    expect(await openWriteTransactions()).toBe(0);
    // The failed write had taken its range of seq (1..1000): it is never used, and never holds readers back.
    expect(await counts()).toEqual({ rows: 0, ids: 0, distinct_ids: 0, seq: "1000" });
    await store.sql.unsafe("drop function refuse_row() cascade");
    expect(await store.writer.write(a)).toEqual({ inserted: 1000, duplicates: 0 });
    expect(await store.writer.write(b)).toEqual({ inserted: 1000, duplicates: 0 });
    expect(await counts()).toEqual({ rows: 2000, ids: 2000, distinct_ids: 2000, seq: "3000" });
    expect(await store.reader.watermark()).toBe(3000);
  });

  it("stop() rolls back a staged transaction", async () => {
    await writeWithStaged(batchOf(eventsFor("a", 500), 0, 0), batchOf(eventsFor("b", 500), 1, 0));
    await store.writer.stop();
    expect(await openWriteTransactions()).toBe(0);
    expect(await counts()).toEqual({ rows: 500, ids: 500, distinct_ids: 500, seq: "500" });
    await store.writer.start();
  });

  it("the persister stores the same whether a batch was prepared ahead or not", async () => {
    const records = (prefix: string, partition: number): BusRecord[] => {
      const events = eventsFor(prefix, 700);
      const out: BusRecord[] = events.map((e, i) => ({
        partition,
        offset: String(i),
        key: e.source,
        value: new TextEncoder().encode(encodeEvent(e)),
        timestamp: now,
      }));
      // One poison record in each: dead-lettered either way, the partition moves past it.
      out.push({
        partition,
        offset: "700",
        key: null,
        value: new TextEncoder().encode("{nope"),
        timestamp: now,
      });
      return out;
    };
    const letters: DeadLetter[] = [];
    const persist = createPersister({
      writer: store.writer,
      subscriber: { deadLetter: async (l) => void letters.push(...l) },
      group: "g",
    });
    const first = { topic: "logs", records: records("p", 0) };
    const second = { topic: "logs", records: records("q", 1) };
    const writing = persist(first);
    persist.prepare(second);
    await writing;
    await persist(second);
    expect(letters.map((l) => [l.reason, l.record.partition, l.record.offset])).toEqual([
      ["unparseable", 0, "700"],
      ["unparseable", 1, "700"],
    ]);
    expect(await counts()).toEqual({ rows: 1400, ids: 1400, distinct_ids: 1400, seq: "1400" });
    expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(
      new Map([
        [0, "701"],
        [1, "701"],
      ]),
    );
    const [p] = await store.sql<
      { n: number }[]
    >`select count(*)::int as n from log_events where id like 'p-%'`;
    const [q] = await store.sql<
      { n: number }[]
    >`select count(*)::int as n from log_events where id like 'q-%'`;
    expect([p?.n, q?.n]).toEqual([700, 700]);
  });
});
