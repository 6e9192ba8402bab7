// PostgreSQL schema lifecycle: embedded migrations (idempotent, concurrent), daily partitions, retention.

import { afterEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { MIGRATIONS, migrate } from "../../src/adapters/store/postgres/migrate.ts";
import { DAY_MS, partitionName } from "../../src/adapters/store/postgres/partitions.ts";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { WriteBatch } from "../../src/ports/log-store.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const cfg = testPostgresConfig();

const stores: PostgresStore[] = [];
const schemas: string[] = [];
const open = (schema: string, opts: Parameters<typeof createPostgresStore>[1] = {}): PostgresStore => {
  const store = createPostgresStore(cfg, { schema, ...opts });
  stores.push(store);
  return store;
};
afterEach(async () => {
  const first = stores[0];
  for (const schema of schemas.splice(0))
    await first?.sql.unsafe(`drop schema if exists "${schema}" cascade`);
  for (const s of stores.splice(0)) await Promise.all([s.writer.stop(), s.reader.stop()]);
});
const newSchema = (): string => {
  const schema = uniqueName("t");
  schemas.push(schema);
  return schema;
};

let n = 0;
const batch = (timestamps: number[], from: number): WriteBatch => ({
  group: "g",
  topic: "logs",
  events: timestamps.map((timestamp, i) => ({
    event: {
      id: `e${n++}`,
      level: "INFO",
      message: "m",
      source: "s",
      timestamp,
      metadata: null,
    } satisfies LogEvent,
    partition: 0,
    offset: String(from + i),
  })),
  nextOffsets: new Map([[0, String(from + timestamps.length)]]),
});

describe("postgres migrations", () => {
  it("are embedded in the program as SQL text", () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(MIGRATIONS[0]?.sql).toContain("create table log_events");
  });

  it("apply once: a second run finds nothing to do", async () => {
    const schema = newSchema();
    const store = open(schema);
    expect(await migrate(store.sql, schema)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(store.sql, schema)).toEqual([]);
    const rows = await store.sql`select version from schema_migrations`;
    expect(rows.length).toBe(MIGRATIONS.length);
  });

  it("apply once when several consumers start together", async () => {
    const schema = newSchema();
    const starters = Array.from({ length: 5 }, () => open(schema));
    const applied = await Promise.all(starters.map((s) => migrate(s.sql, schema)));
    expect(applied.flat()).toEqual(MIGRATIONS.map((m) => m.version));
    const [marks] = await (starters[0] as PostgresStore).sql<
      { n: string }[]
    >`select count(*) as n from log_watermark`;
    expect(Number(marks?.n)).toBe(1);
    await Promise.all(starters.map((s) => s.writer.start()));
  });

  it("keep each schema apart", async () => {
    const [one, two] = [newSchema(), newSchema()];
    const a = open(one);
    const b = open(two);
    await Promise.all([a.writer.start(), b.writer.start()]);
    await a.writer.write(batch([Date.now()], 0));
    expect(await a.reader.watermark()).toBe(1);
    expect(await b.reader.watermark()).toBe(0);
  });
});

describe("postgres daily partitions and retention", () => {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const noon = (days: number) => today + days * DAY_MS + DAY_MS / 2;

  const setup = async () => {
    let now = Date.now();
    const schema = newSchema();
    const store = open(schema, { partitions: { now: () => now, pastDays: 30, futureDays: 3 } });
    await store.writer.start();
    const partitions = async () => (await store.partitions.list()).sort((x, y) => x - y);
    const inDefault = async () =>
      Number((await store.sql<{ n: string }[]>`select count(*) as n from log_events_default`)[0]?.n);
    const advance = (ms: number): void => {
      now += ms;
    };
    return { store, partitions, inDefault, advance };
  };
  const day = (ms: number) => Math.floor(ms / DAY_MS);

  it("exist from yesterday to two days ahead once the writer starts", async () => {
    const { partitions } = await setup();
    expect(await partitions()).toEqual([-1, 0, 1, 2].map((d) => day(today) + d));
  });

  it("are created for the days a batch needs; days beyond the horizon wait in DEFAULT and move in later", async () => {
    const { store, partitions, inDefault, advance } = await setup();
    const times = [noon(-10), noon(-40), noon(10), Date.UTC(1971, 0, 1), Date.UTC(9999, 0, 1)];
    expect(await store.writer.write(batch(times, 0))).toEqual({ inserted: 5, duplicates: 0 });
    expect(await partitions()).toContain(day(noon(-10)));
    expect(await partitions()).not.toContain(day(noon(10)));
    expect(await inDefault()).toBe(4);

    // Eight days later the day ten days ahead is within reach: its rows move from DEFAULT to its partition.
    advance(8 * DAY_MS);
    await store.writer.write(batch([noon(8)], 5));
    expect(await partitions()).toContain(day(noon(10)));
    expect(await inDefault()).toBe(3);
    const [row] = await store.sql<{ name: string }[]>`
      select tableoid::regclass::text as name from log_events where ts = ${new Date(noon(10))}`;
    expect(row?.name).toBe(partitionName(day(noon(10))));
    const page = await store.reader.page({
      start: 0,
      end: Date.UTC(9999, 11, 31),
      levels: [],
      sources: [],
      size: 10,
      page: 0,
    });
    expect(page.items.map((i) => i.timestamp)).toEqual([...times, noon(8)].sort((x, y) => y - x));
  });

  it("retention drops whole old partitions and prunes DEFAULT, the dedupe ids and the rollup alike", async () => {
    const { store, partitions, inDefault } = await setup();
    const old = batch([noon(-10), noon(-6), noon(-40)], 0);
    await store.writer.write(old);
    await store.writer.write(batch([noon(0)], 3));
    const dropped = await store.writer.dropPartitionsOlderThan(5);
    expect(dropped).toEqual([partitionName(day(noon(-10))), partitionName(day(noon(-6)))]);
    expect(await partitions()).not.toContain(day(noon(-6)));
    expect(await partitions()).toContain(day(noon(-1)));
    expect(await inDefault()).toBe(0);
    for (const e of old.events) expect(await store.reader.findById(e.event.id)).toBeUndefined();
    const stats = await store.reader.stats({
      start: noon(-41),
      end: noon(-5),
      bucketMs: DAY_MS,
      maxSources: 100,
    });
    expect(stats.totalLogs).toBe(0);
    expect(
      (await store.reader.stats({ start: today, end: noon(1), bucketMs: DAY_MS, maxSources: 100 })).totalLogs,
    ).toBe(1);
    // The ids are forgotten with their rows: the same event sent again is stored again.
    const again = {
      ...old,
      nextOffsets: new Map<number, string>(),
      events: old.events.map((e) => ({ ...e, partition: 1 })),
    };
    expect(await store.writer.write(again)).toEqual({ inserted: 3, duplicates: 0 });
    expect(await store.writer.dropPartitionsOlderThan(0)).toEqual([]);
  });
});
