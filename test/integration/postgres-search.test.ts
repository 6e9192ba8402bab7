// PostgreSQL search: the index agrees with the domain tokenizer on any text, and the walk/probe strategy pages exactly.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { LogPage, PageItem, SearchQuery } from "../../src/domain/query.ts";
import { matchTerms, parseSearch, tokenize } from "../../src/domain/search-syntax.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { batchOf } from "../helpers/write-batch.ts";

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
/** The reference: every event the domain's matcher accepts, newest first (ids are ASCII, so < is code-point order). */
const expected = (events: LogEvent[], text: string) =>
  events
    .filter((e) => matchTerms(parseSearch(text), e.message))
    .sort((a, b) => b.timestamp - a.timestamp || (a.id < b.id ? 1 : -1))
    .map((e) => ({ id: e.id, matched: matchTerms(parseSearch(text), e.message) }));
const shape = (items: PageItem[]) => items.map((i) => ({ id: i.id, matched: i.matched }));

const withStore = (tuning: Parameters<typeof createPostgresStore>[1] = {}) => {
  const schema = uniqueName("t");
  const store = createPostgresStore(cfg, { schema, ...tuning });
  return {
    store,
    start: async () => {
      await store.writer.start();
      await store.reader.start();
    },
    stop: async () => {
      await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await store.writer.stop();
      await store.reader.stop();
    },
  };
};

describe("postgres search index", () => {
  const ctx = withStore();
  const PIECES = [
    "a",
    "b",
    "é",
    "ß",
    "中文",
    "😀",
    "x²",
    "٣",
    "7",
    "İ",
    "ǅ",
    "हिन्दी",
    "e\u0301",
    "Straße",
    "ΣΑΣ",
  ];
  const SEPARATORS = [
    " ",
    "-",
    ".",
    "/",
    "@",
    "_",
    "\t",
    "\n",
    "'",
    '"',
    "\\",
    ":",
    "&",
    "|",
    "!",
    "(",
    "<->",
    "",
  ];
  const text = fc
    .array(fc.tuple(fc.constantFrom(...PIECES), fc.constantFrom(...SEPARATORS)), {
      minLength: 1,
      maxLength: 10,
    })
    .map((parts) => parts.map(([p, s]) => p + s).join(""));
  let events: LogEvent[] = [];

  beforeAll(async () => {
    await ctx.start();
    const messages = fc.sample(text, { numRuns: 200, seed: 7 });
    messages.push(
      `${"a ".repeat(300)}needle b`, // 'a' has more positions than the index keeps
      `${"w ".repeat(17_000)}tail end`, // positions past the index's largest
      Array.from({ length: 40_000 }, (_, i) => `t${i}`).join(" "), // more words than the index takes
    );
    events = messages.map((message, i) => ({
      id: `m${String(i).padStart(4, "0")}`,
      level: "INFO",
      message,
      source: "s",
      timestamp: END - 1000 - (i % 50) * 1000,
      metadata: null,
    }));
    await ctx.store.writer.write(batchOf(events));
  });
  afterAll(() => ctx.stop());

  it("finds exactly what the domain's matcher finds, whatever the text", async () => {
    const vocabulary = [...new Set(events.slice(0, 200).flatMap((e) => tokenize(e.message)))];
    const term = fc.oneof(
      fc.constantFrom(...vocabulary),
      fc.constantFrom(...PIECES),
      fc.tuple(fc.constantFrom(...vocabulary), fc.constantFrom(...vocabulary)).map(([x, y]) => `"${x} ${y}"`),
      fc.constantFrom(...vocabulary).map((w) => `-${w}`),
    );
    const queries = fc.array(term, { minLength: 1, maxLength: 3 }).map((ts) => ts.join(" "));
    await fc.assert(
      fc.asyncProperty(queries, async (q) => {
        const page = await ctx.store.reader.search(searchQuery(q));
        expect(shape(page.items)).toEqual(expected(events, q));
      }),
      { numRuns: 150, seed: 11 },
    );
  }, 600_000);

  for (const q of [
    '"a needle"',
    '"needle b"',
    '"tail end"',
    "t39999",
    "t0 t39999",
    '"t39998 t39999"',
    "t5 -t39999",
  ])
    it(`finds rows the index keeps incompletely: ${q}`, async () => {
      const page = await ctx.store.reader.search(searchQuery(q));
      expect(shape(page.items)).toEqual(expected(events, q));
      expect(page.items.length).toBe(q.includes("-") ? 0 : 1);
    });
});

describe("postgres search strategy", () => {
  // Tiny tuning so a few hundred rows exercise every path: walk, widening probes, dense slices, fallback walk.
  const ctx = withStore({ search: { walkRows: 40, probeCap: 15, maxWalked: 400 } });
  const RARE = new Set([5, 300, 301, 500, 700, 790, 799]);
  const events: LogEvent[] = Array.from({ length: 800 }, (_, i) => {
    const words = [`event${i}`];
    if (i % 3 === 0) words.push("common");
    if (RARE.has(i)) words.push("rare event");
    if (i >= 600 && i < 700) words.push("burst");
    return {
      id: `e${String(i).padStart(4, "0")}`,
      level: i % 7 === 0 ? "ERROR" : "INFO",
      message: words.join(" "),
      source: i % 2 ? "web" : "api",
      // Pairs share a timestamp, so keyset positions meet ties in every phase.
      timestamp: END - 60_000 - Math.floor(i / 2) * 36_000,
      metadata: null,
    };
  });
  beforeAll(async () => {
    await ctx.start();
    await ctx.store.writer.write(batchOf(events));
  });
  afterAll(() => ctx.stop());

  const follow = async (q: SearchQuery): Promise<PageItem[]> => {
    const seen: PageItem[] = [];
    let page: LogPage = await ctx.store.reader.search(q);
    seen.push(...page.items);
    for (let i = 0; page.hasMore && i < 500; i++) {
      const last = page.items[page.items.length - 1] as PageItem;
      page = await ctx.store.reader.search({
        ...q,
        cursor: { ts: last.timestamp, id: last.id, seq: last.seq },
      });
      seen.push(...page.items);
    }
    return seen;
  };

  for (const text of [
    "common",
    "rare",
    "burst",
    "burst common",
    '"rare event"',
    "event -common",
    "-common",
    "rare -web",
  ])
    it(`pages through ${text} by cursor without gap or repeat`, async () => {
      expect(shape(await follow(searchQuery(text, { size: 7 })))).toEqual(expected(events, text));
    });

  it("pages by number and counts exactly below the bound", async () => {
    for (const text of ["rare", "burst", "common"]) {
      const want = expected(events, text);
      for (let page = 0; page * 9 < want.length; page++) {
        const p = await ctx.store.reader.search(searchQuery(text, { size: 9, page }));
        expect(shape(p.items)).toEqual(want.slice(page * 9, page * 9 + 9));
        expect(p.hasMore).toBe((page + 1) * 9 < want.length);
        expect(p.total).toBe(want.length);
        expect(p.totalExact).toBe(true);
      }
    }
  });

  it("combines the text with level and source filters", async () => {
    const q = searchQuery("burst", { levels: ["ERROR"], sources: ["api"], size: 5 });
    const want = expected(
      events.filter((e) => e.level === "ERROR" && e.source === "api"),
      "burst",
    );
    expect(shape(await follow(q))).toEqual(want);
  });
});
