// The level index leaves INFO out (migration 004): pages of the other levels must still find it, in every plan.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import postgres from "postgres";
import { createReader } from "../../src/adapters/store/postgres/reader.ts";
import { levelsSql } from "../../src/adapters/store/postgres/rows.ts";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { Level } from "../../src/domain/level.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { TEST_POSTGRES_URL, testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { batchOf } from "../helpers/write-batch.ts";

setDefaultTimeout(120_000);

const HOUR = 3_600_000;
const END = Math.floor(Date.now() / HOUR) * HOUR;
const START = END - HOUR;

describe("the level index without INFO", () => {
  const schema = uniqueName("t");
  const store = createPostgresStore(testPostgresConfig(), { schema });
  const notices: string[] = [];
  // Generic plans only, each plan printed as a notice: what a long-lived pool ends up running.
  const explained = postgres(TEST_POSTGRES_URL, {
    max: 1,
    onnotice: (n) => notices.push(String(n.message)),
    connection: { search_path: schema, TimeZone: "UTC", plan_cache_mode: "force_generic_plan" },
  });
  const events: LogEvent[] = Array.from({ length: 20_000 }, (_, i) => ({
    id: `e${String(i).padStart(6, "0")}`,
    timestamp: START + Math.floor((i * HOUR) / 20_000),
    level: (i % 2000 === 0 ? "ERROR" : i % 5 === 0 ? "DEBUG" : "INFO") as Level,
    source: `s${i % 7}`,
    message: "m",
    metadata: null,
  }));

  beforeAll(async () => {
    await store.writer.start();
    await store.reader.start();
    await store.writer.write(batchOf(events));
    await store.sql`analyze log_events`;
    await explained`load 'auto_explain'`;
    await explained`set auto_explain.log_min_duration = 0`;
    await explained`set auto_explain.log_level = notice`;
    await explained`set enable_seqscan = off`;
  });
  afterAll(async () => {
    await explained.end();
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  const newestOf = async (levels: Level[]) => {
    notices.length = 0;
    const page = await createReader(explained).page({
      start: START,
      end: END,
      levels,
      sources: [],
      page: 0,
      size: 5,
    });
    return { ids: page.items.map((e) => e.id), total: page.total, plans: notices.join("\n") };
  };

  const expected = (levels: Level[]) => {
    const all = events.filter((e) => levels.includes(e.level));
    return {
      ids: all
        .slice(-5)
        .reverse()
        .map((e) => e.id),
      total: all.length,
    };
  };

  it("serves rare levels from the index, even in a generic plan", async () => {
    for (const levels of [["ERROR"], ["DEBUG", "ERROR"]] as Level[][]) {
      const got = await newestOf(levels);
      expect({ ids: got.ids, total: got.total }).toEqual(expected(levels));
      expect(got.plans).toMatch(/level_ts_id_idx/);
    }
  });

  it("serves INFO newest first by time, with the same rows", async () => {
    const got = await newestOf(["INFO"]);
    expect({ ids: got.ids, total: got.total }).toEqual(expected(["INFO"]));
    expect(got.plans).not.toMatch(/level_ts_id_idx/);
  });

  it("splices only level names", () => {
    expect(() => levelsSql(store.sql, ["ERROR') or (true"])).toThrow(/not a level/);
  });
});
