// PostgreSQL search: every tuning of the walk/probe strategy finds the same pages, and totals past the
// exact-count bound are flagged estimates while those below it stay exact.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { EXACT_TOTAL_BOUND, type LogPage, type PageItem, type SearchQuery } from "../../src/domain/query.ts";
import { matchTerms, parseSearch } from "../../src/domain/search-syntax.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const cfg = testPostgresConfig();
const END = Math.floor(Date.now() / 60_000) * 60_000;

const searchQuery = (text: string, over: Partial<SearchQuery> = {}): SearchQuery => ({
  start: END - 86_400_000,
  end: END,
  levels: [],
  sources: [],
  size: 1000,
  page: 0,
  terms: parseSearch(text),
  ...over,
});
/** Every event the domain's matcher accepts, newest first (ids are ASCII, so < is code-point order). */
const expected = (events: LogEvent[], text: string) =>
  events
    .filter((e) => matchTerms(parseSearch(text), e.message))
    .sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : -1))
    .map((e) => e.id);
const ids = (items: PageItem[]) => items.map((i) => i.id);

const batches = (events: LogEvent[], size: number) =>
  Array.from({ length: Math.ceil(events.length / size) }, (_, b) => ({
    group: "g",
    topic: "logs",
    events: events
      .slice(b * size, (b + 1) * size)
      .map((event, i) => ({ event, partition: 0, offset: String(b * size + i) })),
    nextOffsets: new Map(),
  }));

/**
 * One schema written once, read through stores of different tunings. Events in `later` are written after
 * the rest, and `mark.seq` is the watermark between the two.
 */
const withSchema = (
  events: LogEvent[],
  tunings: Record<string, Parameters<typeof createPostgresStore>[1]>,
  later: LogEvent[] = [],
  mark: { seq: number } = { seq: 0 },
) => {
  const schema = uniqueName("t");
  const stores = new Map<string, PostgresStore>();
  for (const [name, opts] of Object.entries(tunings))
    stores.set(name, createPostgresStore(cfg, { ...opts, schema }));
  beforeAll(async () => {
    const first = [...stores.values()][0] as PostgresStore;
    await first.writer.start();
    for (const b of batches(events, 8000)) await first.writer.write(b);
    mark.seq = await first.reader.watermark();
    for (const b of batches(later, 8000)) await first.writer.write(b);
    for (const s of stores.values()) await s.reader.start();
  });
  afterAll(async () => {
    const first = [...stores.values()][0] as PostgresStore;
    await first.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await first.writer.stop();
    for (const s of stores.values()) await s.reader.stop();
  });
  return stores;
};

const RARE = new Set([5, 300, 301, 500, 700, 790, 799]);
const strategyEvents: LogEvent[] = Array.from({ length: 800 }, (_, i) => {
  const words = [`event${i}`];
  if (i % 3 === 0) words.push("common");
  if (i % 40 === 0) words.push("sparse");
  if (RARE.has(i)) words.push("rare event");
  if (i >= 600 && i < 700) words.push("burst");
  return {
    id: `e${String(i).padStart(4, "0")}`,
    level: i % 7 === 0 ? "ERROR" : "INFO",
    message: words.join(" "),
    source: i % 2 ? "web" : "api",
    timestamp: END - 60_000 - Math.floor(i / 2) * 36_000,
    metadata: null,
  };
});
// From walking only to probing almost at once: each path of the strategy must give the same pages.
const TUNINGS = {
  "walks only": { search: { firstWalkRows: 1000, walkRows: 1000, probeCap: 1000, maxWalked: 1000 } },
  "short first walk, then walks or probes": {
    search: { firstWalkRows: 3, walkRows: 60, probeCap: 15, maxWalked: 400 },
  },
  "probes after the least walk": { search: { firstWalkRows: 1, walkRows: 1, probeCap: 6, maxWalked: 400 } },
  defaults: {},
};
const TEXTS = ["common", "sparse", "rare", "burst", "burst common", '"rare event"', "sparse -web", "-common"];

const follow = async (store: PostgresStore, q: SearchQuery): Promise<PageItem[]> => {
  const seen: PageItem[] = [];
  let page: LogPage = await store.reader.search(q);
  seen.push(...page.items);
  for (let i = 0; page.hasMore && i < 500; i++) {
    const last = page.items[page.items.length - 1] as PageItem;
    page = await store.reader.search({ ...q, cursor: { ts: last.timestamp, id: last.id, seq: last.seq } });
    seen.push(...page.items);
  }
  return seen;
};

/** INFO pages 0, 1 and 4 of every text in every store: the items and exact totals of `events`, whatever the tuning. */
const pagesByNumber = async (
  stores: Map<string, PostgresStore>,
  events: LogEvent[],
  over: Partial<SearchQuery> = {},
) => {
  const infos = events.filter((e) => e.level === "INFO");
  for (const [name, store] of stores)
    for (const text of TEXTS) {
      const want = expected(infos, text);
      for (const page of [0, 1, 4]) {
        const p = await store.reader.search(searchQuery(text, { size: 9, page, levels: ["INFO"], ...over }));
        expect({ name, text, page, ids: ids(p.items), hasMore: p.hasMore }).toEqual({
          name,
          text,
          page,
          ids: want.slice(page * 9, page * 9 + 9),
          hasMore: want.length > (page + 1) * 9,
        });
        // Exclusions alone are counted by walking at most maxWalked rows: past that, an estimate.
        if (p.totalExact || !text.startsWith("-"))
          expect({ name, text, total: p.total, exact: p.totalExact }).toEqual({
            name,
            text,
            total: want.length,
            exact: true,
          });
      }
    }
};

describe("postgres search strategies", () => {
  const events = strategyEvents;
  const stores = withSchema(events, TUNINGS);

  it("pages by cursor through the same matches whatever the tuning", async () => {
    for (const [name, store] of stores)
      for (const text of TEXTS) {
        const got = ids(await follow(store, searchQuery(text, { size: 7 })));
        expect({ name, text, got }).toEqual({ name, text, got: expected(events, text) });
      }
  });

  it("pages by number with the same items and exact totals whatever the tuning", () =>
    pagesByNumber(stores, events));
});

describe("postgres search strategies at a snapshot", () => {
  // A quarter of the events arrive after the snapshot, interleaved in time with the rest, with the same words.
  const earlier = strategyEvents.filter((_, i) => i % 4 !== 1);
  const later = strategyEvents.filter((_, i) => i % 4 === 1);
  const mark = { seq: 0 };
  const stores = withSchema(earlier, TUNINGS, later, mark);

  it("pages by cursor through the matches stored up to maxSeq whatever the tuning", async () => {
    for (const [name, store] of stores)
      for (const text of TEXTS) {
        const all = ids(await follow(store, searchQuery(text, { size: 7 })));
        expect({ name, text, all }).toEqual({ name, text, all: expected(strategyEvents, text) });
        const got = ids(await follow(store, searchQuery(text, { size: 7, maxSeq: mark.seq })));
        expect({ name, text, got }).toEqual({ name, text, got: expected(earlier, text) });
      }
  });

  it("pages by number with the items and exact totals of maxSeq whatever the tuning", () =>
    pagesByNumber(stores, earlier, { maxSeq: mark.seq }));
});

describe("postgres search totals around the exact-count bound", () => {
  const N = 24_000;
  // Regular patterns: "dense" in 80 % of rows, "most" in 45 % (just past the bound), "under" in 38 % (just
  // below it), "few" in 0.1 %.
  const events: LogEvent[] = Array.from({ length: N }, (_, i) => {
    const words = [`w${i % 97}`];
    if (i % 5 !== 0) words.push("dense");
    if (i % 100 < 45) words.push("most");
    if (i % 100 < 38) words.push("under");
    if (i % 1000 === 7) words.push("few");
    return {
      id: `t${String(i).padStart(6, "0")}`,
      level: "INFO",
      message: words.join(" "),
      source: "s",
      timestamp: END - 1000 - i * 3000,
      metadata: null,
    };
  });
  const stores = withSchema(events, { defaults: {} });

  for (const text of ["dense", "most", "under", "few", "dense most", "-dense"])
    it(`answers ${text} with the newest page and a total exact below the bound, flagged past it`, async () => {
      const store = stores.get("defaults") as PostgresStore;
      const want = expected(events, text);
      const p = await store.reader.search(searchQuery(text, { size: 50 }));
      expect(ids(p.items)).toEqual(want.slice(0, 50));
      expect(p.hasMore).toBe(want.length > 50);
      if (want.length <= EXACT_TOTAL_BOUND)
        expect({ total: p.total, exact: p.totalExact }).toEqual({ total: want.length, exact: true });
      else if (p.totalExact) expect(p.total).toBe(want.length);
      else {
        expect(p.total).toBeGreaterThan(EXACT_TOTAL_BOUND);
        expect(Math.abs(p.total - want.length)).toBeLessThan(want.length / 4);
      }
    });
});
