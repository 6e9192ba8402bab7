// A writer's lanes: each writes on connections of its own, so a batch of one lane commits while another
// lane's transaction is held; both stores stay exact (rows, offsets, counts), and stop() ends every lane.

import { afterEach, beforeEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { WriteBatch } from "../../src/ports/log-store.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";

setDefaultTimeout(120_000);

const cfg = testPostgresConfig();

const batchOf = (partition: number, source: string, count: number, at: number, from = 0): WriteBatch => ({
  group: "g",
  topic: "logs",
  events: Array.from({ length: count }, (_, i) => {
    const event: LogEvent = {
      id: `${source}-${i}`,
      level: "INFO",
      message: `m ${i}`,
      source,
      timestamp: at + i,
      metadata: null,
    };
    return { event, partition, offset: String(from + i) };
  }),
  nextOffsets: new Map([[partition, String(from + count)]]),
});

describe("postgres writer lanes", () => {
  let schema: string;
  let store: PostgresStore;
  beforeEach(async () => {
    schema = uniqueName("t");
    store = createPostgresStore(cfg, { schema, applicationName: schema });
    await store.writer.start();
  });
  afterEach(async () => {
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
  });

  it("a lane commits while the writer's own transaction waits, and both are stored once", async () => {
    const lane = store.writer.lane?.();
    if (!lane) throw new Error("the postgres writer has lanes");
    // Partition 0's offsets row is held by another session: the writer's transaction waits on it at its end.
    await store.writer.write(batchOf(0, "warm", 1, Date.now() - 60_000));
    const holder = await store.sql.reserve();
    await holder`begin`;
    await holder`select * from consumer_offsets where partition = 0 for update`;
    const held = store.writer.write(batchOf(0, "a", 500, Date.now() - 120_000, 1));
    let heldDone = false;
    void held.then(() => {
      heldDone = true;
    });
    // The lane writes another partition (other rollup rows: another source, minutes apart) meanwhile.
    const result = await lane.write(batchOf(1, "b", 300, Date.now()));
    expect(result).toEqual({ inserted: 300, duplicates: 0 });
    expect(heldDone).toBe(false);
    await holder`rollback`;
    holder.release();
    expect(await held).toEqual({ inserted: 500, duplicates: 0 });
    const [counts] = await store.sql<{ a: number; b: number }[]>`
      select count(*) filter (where source = 'a')::int as a, count(*) filter (where source = 'b')::int as b
      from log_events`;
    expect(counts).toEqual({ a: 500, b: 300 });
    const offsets = await store.writer.committedPositions("g", "logs");
    expect([offsets.get(0)?.next, offsets.get(1)?.next]).toEqual(["501", "300"]);
    const [rollup] = await store.sql<{ n: number }[]>`
      select sum(count)::int as n from log_rollup_minute where source in ('a', 'b')`;
    expect(rollup?.n).toBe(800);
  });
});

describe("postgres writer lanes, stopped", () => {
  it("stop() ends every lane's connections", async () => {
    const schema = uniqueName("t");
    const store = createPostgresStore(cfg, { schema, applicationName: schema });
    const probe = createPostgresStore(cfg, { schema, applicationName: `${schema}-probe` });
    const writers = async () => {
      const [row] = await probe.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where application_name = ${`${schema}-writer`}`;
      return row?.n;
    };
    try {
      await store.writer.start();
      const lane = store.writer.lane?.();
      if (!lane) throw new Error("the postgres writer has lanes");
      await Promise.all([
        store.writer.write(batchOf(0, "a", 10, Date.now())),
        lane.write(batchOf(1, "b", 10, Date.now())),
      ]);
      expect(await writers()).toBeGreaterThanOrEqual(2);
      await store.writer.stop();
      expect(await writers()).toBe(0);
    } finally {
      await probe.sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await probe.sql.end();
    }
  });
});
