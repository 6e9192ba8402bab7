// PostgreSQL pages against plain SQL: exact totals from rollups plus edge rows, and merged per-value index scans.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { LEVELS, type Level } from "../../src/domain/level.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { LogQuery } from "../../src/domain/query.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { batchOf } from "../helpers/write-batch.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const cfg = testPostgresConfig();

const HOUR = 3_600_000;
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - 3 * HOUR;
const SOURCES = ["api", "web", "db", "queue", "auth"];

describe("postgres pages", () => {
  const schema = uniqueName("t");
  const store = createPostgresStore(cfg, { schema });
  const events: LogEvent[] = fc
    .sample(
      fc.record({
        timestamp: fc.integer({ min: START, max: END }),
        level: fc.constantFrom(...LEVELS),
        source: fc.constantFrom(...SOURCES),
      }),
      { numRuns: 3000, seed: 5 },
    )
    .map((r, i) => ({ ...r, id: `e${i}`, message: "m", metadata: null }));

  beforeAll(async () => {
    await store.writer.start();
    await store.reader.start();
    await store.writer.write(batchOf(events));
  });
  afterAll(async () => {
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  const reference = async (q: LogQuery, offset: number, limit: number) => {
    const where = store.sql`ts >= ${new Date(q.start)} and ts <= ${new Date(q.end)}
      ${q.levels.length ? store.sql`and level in ${store.sql(q.levels)}` : store.sql``}
      ${q.sources.length ? store.sql`and source in ${store.sql(q.sources)}` : store.sql``}
      ${q.maxSeq === undefined ? store.sql`` : store.sql`and seq <= ${q.maxSeq}`}`;
    const [count] = await store.sql<{ n: string }[]>`select count(*) as n from log_events where ${where}`;
    const rows = await store.sql<{ id: string }[]>`select id from log_events where ${where}
      order by ts desc, id desc limit ${limit} offset ${offset}`;
    return { total: Number(count?.n), ids: rows.map((r) => r.id) };
  };

  const query = fc.record({
    start: fc.integer({ min: START - HOUR, max: END }),
    span: fc.integer({ min: 0, max: 4 * HOUR }),
    levels: fc.subarray([...LEVELS] as Level[]),
    sources: fc.subarray(SOURCES),
    size: fc.integer({ min: 1, max: 40 }),
    page: fc.integer({ min: 0, max: 3 }),
  });

  /** The page the reader answers is the one plain SQL gives, with its exact total. */
  const likePlainSql = async (q: LogQuery) => {
    const page = await store.reader.page(q);
    const want = await reference(q, q.page * q.size, q.size);
    expect(page.total).toBe(want.total);
    expect(page.totalExact).toBe(true);
    expect(page.items.map((i) => i.id)).toEqual(want.ids);
    expect(page.hasMore).toBe(want.total > (q.page + 1) * q.size);
  };

  it("counts exactly and orders like plain SQL, for any window and filters", async () => {
    await fc.assert(
      fc.asyncProperty(query, (r) => likePlainSql({ ...r, end: r.start + r.span })),
      { numRuns: 120, seed: 3 },
    );
  }, 600_000);

  it("counts exactly and orders like plain SQL at any snapshot", async () => {
    const newest = await store.reader.watermark();
    await fc.assert(
      fc.asyncProperty(query, fc.integer({ min: 0, max: newest }), (r, maxSeq) =>
        likePlainSql({ ...r, end: r.start + r.span, maxSeq }),
      ),
      { numRuns: 80, seed: 4 },
    );
  }, 600_000);

  it("follows a cursor through merged per-source scans without gap or repeat", async () => {
    const q: LogQuery = {
      start: START,
      end: END,
      levels: ["ERROR", "WARN", "FATAL"],
      sources: ["api", "db", "auth"],
      size: 33,
      page: 0,
    };
    const seen: string[] = [];
    let page = await store.reader.page(q);
    seen.push(...page.items.map((i) => i.id));
    while (page.hasMore) {
      const last = page.items[page.items.length - 1];
      if (!last) break;
      page = await store.reader.page({ ...q, cursor: { ts: last.timestamp, id: last.id, seq: last.seq } });
      seen.push(...page.items.map((i) => i.id));
    }
    const want = await reference(q, 0, 10_000);
    expect(seen).toEqual(want.ids);
  });
});
