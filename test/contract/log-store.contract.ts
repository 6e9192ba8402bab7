// The LogWriter/LogReader contract: one suite that every store adapter (PostgreSQL, SQLite) must pass.

import { afterEach, beforeEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Level } from "../../src/domain/level.ts";
import type { LogEvent, StoredLogEvent } from "../../src/domain/log-event.ts";
import { EXACT_TOTAL_BOUND, type LogQuery, type PageItem, type TailQuery } from "../../src/domain/query.ts";
import { matchTerms, parseSearch } from "../../src/domain/search-syntax.ts";
import type { LogReader, LogWriter, SourcedEvent, WriteBatch } from "../../src/ports/log-store.ts";
import { nextOffsetsOf } from "../helpers/write-batch.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

export interface StoreUnderTest {
  writer: LogWriter;
  reader: LogReader;
  cleanup(): Promise<void>;
}

const MINUTE = 60_000;
/** A minute-aligned time an hour ago: inside every store's live range, and stats windows align with it. */
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;

let ids = 0;
export const event = (over: Partial<LogEvent> = {}): LogEvent => ({
  id: `ev-${(ids++).toString().padStart(6, "0")}`,
  level: "INFO",
  message: "hello world",
  source: "api",
  timestamp: T0,
  metadata: null,
  ...over,
});

/** Events on one partition at consecutive offsets from `from`; nextOffsets covers them. */
export const batchOf = (
  events: LogEvent[],
  opts: { partition?: number; from?: number; group?: string } = {},
): WriteBatch => {
  const partition = opts.partition ?? 0;
  const from = opts.from ?? 0;
  const sourced: SourcedEvent[] = events.map((e, i) => ({ event: e, partition, offset: String(from + i) }));
  return {
    group: opts.group ?? "g",
    topic: "logs",
    events: sourced,
    nextOffsets: new Map(events.length ? [[partition, String(from + events.length)]] : []),
  };
};

const query = (over: Partial<LogQuery> = {}): LogQuery => ({
  start: T0 - 60 * MINUTE,
  end: T0 + 60 * MINUTE,
  levels: [],
  sources: [],
  size: 50,
  page: 0,
  ...over,
});

const plain = (e: StoredLogEvent | PageItem): LogEvent => ({
  id: e.id,
  level: e.level,
  message: e.message,
  source: e.source,
  timestamp: e.timestamp,
  metadata: e.metadata,
});

/** The order every page uses: newest first, ties by id descending (code-point order; our ids are ASCII). */
const newestFirst = (a: LogEvent, b: LogEvent): number =>
  b.timestamp - a.timestamp || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

export const logStoreContract = (name: string, make: () => Promise<StoreUnderTest>) => {
  describe(`${name} store contract`, () => {
    let store: StoreUnderTest;
    let writer: LogWriter;
    let reader: LogReader;
    let offset = 0;
    /** Writes the events at fresh offsets of partition 0 and checks nothing was lost from the counts. */
    const write = async (events: LogEvent[]) => {
      const result = await writer.write(batchOf(events, { from: offset }));
      offset += events.length;
      expect(result.inserted + result.duplicates).toBe(events.length);
      return result;
    };

    beforeEach(async () => {
      store = await make();
      writer = store.writer;
      reader = store.reader;
      offset = 0;
    });
    afterEach(async () => {
      await store.cleanup();
    });

    describe("writing and reading back", () => {
      it("returns every field byte for byte, whatever characters the message and metadata hold", async () => {
        const tricky = [
          "tab\there, newline\nthere, carriage return\r\nand a backslash \\ at the end\\",
          "a COPY end marker on its own line\n\\.\nand after it",
          "\\N is not null, \\t is not a tab, \\\\ is two backslashes",
          "unicode: é ü ß 中文 العربية עברית, emoji 😀👩‍👩‍👧 and a flag 🇫🇷",
          "control characters \u0001\u0008\u000b\u000c\u001b\u007f and a quote \" and ' apostrophe",
          "  leading and trailing spaces  ",
          "x".repeat(20_000),
        ];
        const events = tricky.map((message, i) =>
          event({
            message,
            timestamp: T0 + i,
            level: (["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const)[i % 6],
            source: i % 2 ? "svc/é-ü 😀" : "api",
            metadata:
              i % 3 === 0
                ? null
                : {
                    text: message,
                    nested: {
                      list: [1, 2.5, -3, true, false, null, "x\ty"],
                      deeper: { "ключ 🔑": "значение" },
                    },
                    empty: {},
                  },
          }),
        );
        const result = await write(events);
        expect(result).toEqual({ inserted: events.length, duplicates: 0 });
        for (const e of events) {
          const stored = await reader.findById(e.id);
          expect(stored).toBeDefined();
          expect(plain(stored as StoredLogEvent)).toEqual(e);
          expect(stored?.seq).toBeGreaterThan(0);
          expect(typeof stored?.createdAt).toBe("number");
        }
        const page = await reader.page(query());
        expect(page.items.map(plain)).toEqual([...events].sort(newestFirst));
      });

      it("answers undefined for an id it never stored", async () => {
        await write([event()]);
        expect(await reader.findById("no-such-id")).toBeUndefined();
      });

      it("keeps events at the edges of the supported time range", async () => {
        const early = event({ timestamp: 0, message: "epoch" });
        const late = event({ timestamp: Date.UTC(9999, 11, 31, 23, 59, 59, 999), message: "far future" });
        await write([early, late]);
        expect(plain((await reader.findById(early.id)) as StoredLogEvent)).toEqual(early);
        expect(plain((await reader.findById(late.id)) as StoredLogEvent)).toEqual(late);
        const all = await reader.page(query({ start: 0, end: late.timestamp }));
        expect(all.items.map((i) => i.id)).toEqual([late.id, early.id]);
      });
    });

    describe("exactly once in effect", () => {
      it("skips an id already stored even when it comes back with another timestamp and message", async () => {
        const first = event({ message: "first" });
        await write([first]);
        const again = { ...first, timestamp: T0 + 5 * MINUTE, message: "second" };
        expect(await write([again])).toEqual({ inserted: 0, duplicates: 1 });
        expect(plain((await reader.findById(first.id)) as StoredLogEvent)).toEqual(first);
        const page = await reader.page(query());
        expect(page.items.map(plain)).toEqual([first]);
        expect(page.total).toBe(1);
      });

      it("stores the first of two events with one id in the same batch", async () => {
        const a = event({ message: "kept" });
        const b = { ...a, message: "dropped", timestamp: T0 + 1000 };
        expect(await write([a, b, event()])).toEqual({ inserted: 2, duplicates: 1 });
        expect((await reader.findById(a.id))?.message).toBe("kept");
      });

      it("skips redelivered records below the committed offset, even under new ids", async () => {
        const firstFive = Array.from({ length: 5 }, () => event());
        await writer.write(batchOf(firstFive, { from: 0 }));
        // A redelivery after a crash: offsets 3..7, where 3 and 4 were already consumed.
        const redelivered = Array.from({ length: 5 }, () => event());
        expect(await writer.write(batchOf(redelivered, { from: 3 }))).toEqual({ inserted: 3, duplicates: 2 });
        expect(await reader.findById((redelivered[0] as LogEvent).id)).toBeUndefined();
        expect(await reader.findById((redelivered[2] as LogEvent).id)).toBeDefined();
        expect(nextOffsetsOf(await writer.committedPositions("g", "logs"))).toEqual(new Map([[0, "8"]]));
      });

      it("stores a transient batch (in-process bus) below any committed offset, deduplicated by id alone", async () => {
        await writer.write(batchOf(Array.from({ length: 5 }, () => event())));
        // A restarted in-process bus numbers from 0 again: those offsets say nothing about what is stored.
        const fresh = Array.from({ length: 3 }, () => event());
        const again = { ...batchOf(fresh), transient: true };
        expect(await writer.write(again)).toEqual({ inserted: 3, duplicates: 0 });
        expect(await writer.write(again)).toEqual({ inserted: 0, duplicates: 3 });
        for (const e of fresh) expect(await reader.findById(e.id)).toBeDefined();
        // And it leaves the durable bus's offsets as they were.
        expect(nextOffsetsOf(await writer.committedPositions("g", "logs"))).toEqual(new Map([[0, "5"]]));
      });

      it("adds nothing when the same batch is written twice", async () => {
        const events = Array.from({ length: 20 }, (_, i) => event({ timestamp: T0 + i }));
        const batch = batchOf(events);
        expect(await writer.write(batch)).toEqual({ inserted: 20, duplicates: 0 });
        const mark = await reader.watermark();
        expect(await writer.write(batch)).toEqual({ inserted: 0, duplicates: 20 });
        expect(await reader.watermark()).toBe(mark);
        expect((await reader.page(query())).total).toBe(20);
      });
    });

    describe("committed offsets", () => {
      it("starts empty and keeps the next offset per partition for each group and topic", async () => {
        expect(nextOffsetsOf(await writer.committedPositions("g", "logs"))).toEqual(new Map());
        await writer.write(batchOf([event(), event()], { partition: 0, from: 10 }));
        await writer.write(batchOf([event()], { partition: 3, from: 0 }));
        await writer.write(batchOf([event()], { partition: 0, from: 0, group: "other" }));
        expect(nextOffsetsOf(await writer.committedPositions("g", "logs"))).toEqual(
          new Map([
            [0, "12"],
            [3, "1"],
          ]),
        );
        expect(nextOffsetsOf(await writer.committedPositions("other", "logs"))).toEqual(new Map([[0, "1"]]));
        expect(nextOffsetsOf(await writer.committedPositions("g", "another-topic"))).toEqual(new Map());
      });

      it("advances offsets for a batch without events (every record dead-lettered)", async () => {
        const result = await writer.write({
          group: "g",
          topic: "logs",
          events: [],
          nextOffsets: new Map([[2, "41"]]),
        });
        expect(result).toEqual({ inserted: 0, duplicates: 0 });
        expect(nextOffsetsOf(await writer.committedPositions("g", "logs"))).toEqual(new Map([[2, "41"]]));
      });
    });

    describe("positions of a topic created again", () => {
      /** The batch's records as appended at `ms`, and its positions with that time. */
      const appended = (b: WriteBatch, ms: number): WriteBatch => ({
        ...b,
        events: b.events.map((s) => ({ ...s, appendedMs: ms })),
        appendedMs: new Map([...b.nextOffsets].map(([partition]) => [partition, ms])),
      });

      it("stores a new log's records below the old position, and moves the position back to them", async () => {
        await writer.write(appended(batchOf(Array.from({ length: 10 }, () => event())), 1_000));
        expect(await writer.committedPositions("g", "logs")).toEqual(
          new Map([[0, { next: "10", appendedMs: 1_000 }]]),
        );
        // The topic deleted and created again: offsets from 0 anew, records appended since.
        const reborn = Array.from({ length: 4 }, () => event());
        expect(await writer.write(appended(batchOf(reborn), 2_000))).toEqual({ inserted: 4, duplicates: 0 });
        for (const e of reborn) expect(await reader.findById(e.id)).toBeDefined();
        expect(await writer.committedPositions("g", "logs")).toEqual(
          new Map([[0, { next: "4", appendedMs: 2_000 }]]),
        );
        // Redelivered from the new log: handled, skipped even under new ids.
        const redelivered = Array.from({ length: 4 }, () => event());
        expect(await writer.write(appended(batchOf(redelivered), 2_000))).toEqual({
          inserted: 0,
          duplicates: 4,
        });
      });

      it("never moves a position back for a late batch of the old log, though it stores its new events", async () => {
        await writer.write(appended(batchOf(Array.from({ length: 10 }, () => event())), 1_000));
        await writer.write(appended(batchOf(Array.from({ length: 4 }, () => event())), 2_000));
        const late = Array.from({ length: 3 }, () => event());
        expect(await writer.write(appended(batchOf(late, { from: 5 }), 1_500))).toEqual({
          inserted: 3,
          duplicates: 0,
        });
        expect(await writer.committedPositions("g", "logs")).toEqual(
          new Map([[0, { next: "4", appendedMs: 2_000 }]]),
        );
      });
    });

    describe("pages", () => {
      const levels: Level[] = ["INFO", "WARN", "ERROR"];
      // 30 events, two sources, three levels, and timestamp ties broken by id.
      const seed = () =>
        Array.from({ length: 30 }, (_, i) =>
          event({
            timestamp: T0 + Math.floor(i / 3) * 1000,
            level: levels[i % 3] as Level,
            source: i % 2 ? "web" : "api",
            message: `event ${i}`,
          }),
        );

      it("orders newest first with ties broken by id, and pages by number", async () => {
        const events = seed();
        await write(events);
        const expected = [...events].sort(newestFirst);
        const seen: LogEvent[] = [];
        for (let page = 0; page < 4; page++) {
          const p = await reader.page(query({ size: 8, page }));
          expect(p.total).toBe(30);
          expect(p.totalExact).toBe(true);
          expect(p.hasMore).toBe(page < 3);
          seen.push(...p.items.map(plain));
        }
        expect(seen).toEqual(expected);
      });

      it("continues from a cursor without gap or repeat, across timestamp ties", async () => {
        const events = seed();
        await write(events);
        const seen: LogEvent[] = [];
        let p = await reader.page(query({ size: 7 }));
        seen.push(...p.items.map(plain));
        while (p.hasMore) {
          const last = p.items[p.items.length - 1] as PageItem;
          p = await reader.page(
            query({ size: 7, cursor: { ts: last.timestamp, id: last.id, seq: last.seq } }),
          );
          seen.push(...p.items.map(plain));
        }
        expect(seen).toEqual([...events].sort(newestFirst));
      });

      it("filters by levels, sources and an inclusive time window", async () => {
        const events = seed();
        await write(events);
        const pick = (f: (e: LogEvent) => boolean) => events.filter(f).sort(newestFirst);
        const errors = await reader.page(query({ levels: ["ERROR"] }));
        expect(errors.items.map(plain)).toEqual(pick((e) => e.level === "ERROR"));
        expect(errors.total).toBe(10);
        const mixed = await reader.page(query({ levels: ["ERROR", "WARN"], sources: ["web"] }));
        expect(mixed.items.map(plain)).toEqual(pick((e) => e.level !== "INFO" && e.source === "web"));
        const both = await reader.page(query({ sources: ["web", "api"], size: 5, page: 1 }));
        expect(both.items.map(plain)).toEqual(pick(() => true).slice(5, 10));
        const window = await reader.page(query({ start: T0 + 2000, end: T0 + 4000 }));
        expect(window.items.map(plain)).toEqual(
          pick((e) => e.timestamp >= T0 + 2000 && e.timestamp <= T0 + 4000),
        );
        const none = await reader.page(query({ sources: ["nobody"] }));
        expect(none).toEqual({ items: [], total: 0, totalExact: true, hasMore: false });
      });

      it("answers totals past the exact-count bound, exact or flagged as an estimate", async () => {
        const many = Array.from({ length: EXACT_TOTAL_BOUND + 50 }, (_, i) =>
          event({ timestamp: T0 + (i % 600) * 1000, source: i < 40 ? "rare" : "bulk" }),
        );
        await write(many);
        const all = await reader.page(query({ size: 10 }));
        if (all.totalExact) expect(all.total).toBe(many.length);
        else expect(all.total).toBeGreaterThan(EXACT_TOTAL_BOUND);
        expect(all.items).toHaveLength(10);
        expect(all.hasMore).toBe(true);
        const rare = await reader.page(query({ sources: ["rare"], size: 10 }));
        expect(rare.total).toBe(40);
        expect(rare.totalExact).toBe(true);
      });
    });

    describe("search", () => {
      const messages = [
        "Connection refused by upstream db-1",
        "connection REFUSED again",
        "refused connection from 10.0.0.7",
        "GET /api/users.json answered 200 for user@example.com",
        "timeout while connecting: connection refused",
        "all good",
        "Überprüfung der Verbindung fehlgeschlagen",
      ];
      const seedSearch = async () => {
        const events = messages.map((message, i) =>
          event({
            message,
            timestamp: T0 + i * 1000,
            source: i % 2 ? "web" : "api",
            level: i === 4 ? "ERROR" : "INFO",
          }),
        );
        await write(events);
        return events;
      };
      const search = (text: string, over: Partial<LogQuery> = {}) =>
        reader.search({ ...query(over), terms: parseSearch(text) });
      /** What the domain's matcher says, newest first: the reference for every store. */
      const expected = (events: LogEvent[], text: string) =>
        events
          .filter((e) => matchTerms(parseSearch(text), e.message))
          .sort(newestFirst)
          .map((e) => ({ id: e.id, matched: matchTerms(parseSearch(text), e.message) }));

      for (const text of [
        "connection",
        "CONNECTION refused",
        '"connection refused"',
        '"refused connection"',
        "connection -timeout",
        "refused -upstream -again",
        "users",
        "example",
        "10 0 0 7",
        "überprüfung",
        "nothing-like-this",
        "-connection",
      ])
        it(`matches ${text} as the domain's matcher does, with the matched terms`, async () => {
          const events = await seedSearch();
          const page = await search(text);
          const want = expected(events, text);
          expect(page.items.map((i) => ({ id: i.id, matched: i.matched }))).toEqual(want);
          expect(page.total).toBe(want.length);
          expect(page.totalExact).toBe(true);
          expect(page.hasMore).toBe(false);
        });

      it("applies level and source filters and pages with a cursor", async () => {
        const events = await seedSearch();
        const filtered = await search("connection", { sources: ["api"] });
        expect(filtered.items.map((i) => i.id)).toEqual(
          expected(
            events.filter((e) => e.source === "api"),
            "connection",
          ).map((w) => w.id),
        );
        const errors = await search("connection", { levels: ["ERROR"] });
        expect(errors.items.map((i) => i.message)).toEqual(["timeout while connecting: connection refused"]);
        const first = await search("connection", { size: 2 });
        expect(first.hasMore).toBe(true);
        const last = first.items[1] as PageItem;
        const next = await search("connection", {
          size: 2,
          cursor: { ts: last.timestamp, id: last.id, seq: last.seq },
        });
        expect([...first.items, ...next.items].map((i) => i.id)).toEqual(
          expected(events, "connection")
            .slice(0, 4)
            .map((w) => w.id),
        );
      });
    });

    describe("snapshot bound", () => {
      /**
       * Twelve events across three minutes, the watermark, then four later arrivals inside the same window:
       * newer than every earlier one, between two, older than all, and tying an earlier timestamp.
       */
      const seedSnapshot = async () => {
        const earlier = Array.from({ length: 12 }, (_, i) =>
          event({
            timestamp: T0 + i * 10_000,
            level: i % 3 ? "INFO" : "ERROR",
            source: i % 2 ? "web" : "api",
            message: `disk check ${i}${i % 4 ? "" : " slow"}`,
          }),
        );
        await write(earlier);
        const maxSeq = await reader.watermark();
        const later = [
          event({
            timestamp: T0 + 200_000,
            level: "ERROR",
            source: "api",
            message: "disk check newest slow",
          }),
          event({ timestamp: T0 + 55_000, source: "web", message: "disk check 1 between" }),
          event({ timestamp: T0 - 5_000, level: "ERROR", source: "web", message: "disk check oldest slow" }),
          event({ timestamp: T0 + 30_000, source: "api", message: "disk check tie" }),
        ];
        await write(later);
        expect(await reader.watermark()).toBeGreaterThan(maxSeq);
        return { earlier, later, all: [...earlier, ...later], maxSeq };
      };
      /** The whole hour around T0, and one cut mid-minute at both ends (partial minutes and whole ones). */
      const windows = [
        { start: T0 - 60 * MINUTE, end: T0 + 60 * MINUTE },
        { start: T0 - 30_000, end: T0 + 90_500 },
      ];
      const inWindow = (events: LogEvent[], w: { start: number; end: number }) =>
        events.filter((e) => e.timestamp >= w.start && e.timestamp <= w.end).sort(newestFirst);
      const cursorOf = (p: { items: PageItem[] }) => {
        const last = p.items[p.items.length - 1] as PageItem;
        return { ts: last.timestamp, id: last.id, seq: last.seq };
      };

      it("pages by number and by cursor over exactly the events stored up to maxSeq, with their total", async () => {
        const { earlier, all, maxSeq } = await seedSnapshot();
        for (const w of windows) {
          // Unbounded, the later arrivals are in the window: the bound is what leaves them out.
          const unbounded = await reader.page(query({ ...w, size: 100 }));
          expect(unbounded.items.map(plain)).toEqual(inWindow(all, w));
          expect(unbounded.items.length).toBeGreaterThan(inWindow(earlier, w).length);

          const want = inWindow(earlier, w);
          const pages = Math.ceil(want.length / 4);
          for (let page = 0; page < pages + 1; page++) {
            const p = await reader.page(query({ ...w, size: 4, page, maxSeq }));
            expect(p.items.map(plain)).toEqual(want.slice(page * 4, page * 4 + 4));
            expect(p.total).toBe(want.length);
            expect(p.totalExact).toBe(true);
            expect(p.hasMore).toBe(page < pages - 1);
          }

          const seen: LogEvent[] = [];
          let p = await reader.page(query({ ...w, size: 3, maxSeq }));
          seen.push(...p.items.map(plain));
          while (p.hasMore) {
            p = await reader.page(query({ ...w, size: 3, maxSeq, cursor: cursorOf(p) }));
            expect(p.total).toBe(want.length);
            seen.push(...p.items.map(plain));
          }
          expect(seen).toEqual(want);
        }
      });

      it("applies maxSeq together with level and source lists", async () => {
        const { earlier, maxSeq } = await seedSnapshot();
        const cases: { levels: Level[]; sources: string[] }[] = [
          { levels: [], sources: ["web", "api"] },
          { levels: ["ERROR", "INFO"], sources: [] },
          { levels: ["ERROR"], sources: [] },
          { levels: [], sources: ["web"] },
          { levels: ["ERROR", "INFO"], sources: ["web", "api"] },
        ];
        for (const w of windows)
          for (const c of cases) {
            const want = inWindow(earlier, w).filter(
              (e) =>
                (!c.levels.length || c.levels.includes(e.level)) &&
                (!c.sources.length || c.sources.includes(e.source)),
            );
            const first = await reader.page(query({ ...w, ...c, size: 2, maxSeq }));
            expect(first.items.map(plain)).toEqual(want.slice(0, 2));
            expect(first.total).toBe(want.length);
            const second = await reader.page(query({ ...w, ...c, size: 2, page: 1, maxSeq }));
            expect(second.items.map(plain)).toEqual(want.slice(2, 4));
            const next = await reader.page(query({ ...w, ...c, size: 2, maxSeq, cursor: cursorOf(first) }));
            expect(next.items.map(plain)).toEqual(want.slice(2, 4));
            expect(next.hasMore).toBe(want.length > 4);
          }
      });

      for (const text of ["disk", "slow", "disk -slow", '"check 1"', '"disk check" -tie', "-slow"])
        it(`searches ${text} over exactly the events stored up to maxSeq, with their total`, async () => {
          const { earlier, all, maxSeq } = await seedSnapshot();
          const terms = parseSearch(text);
          for (const w of windows) {
            const matching = (events: LogEvent[]) =>
              inWindow(events, w).filter((e) => matchTerms(terms, e.message));
            const want = matching(earlier);
            const unbounded = await reader.search({ ...query({ ...w, size: 100 }), terms });
            expect(unbounded.items.map(plain)).toEqual(matching(all));

            const whole = await reader.search({ ...query({ ...w, size: 100, maxSeq }), terms });
            expect(whole.items.map(plain)).toEqual(want);
            expect(whole.total).toBe(want.length);
            expect(whole.totalExact).toBe(true);
            expect(whole.hasMore).toBe(false);

            const first = await reader.search({ ...query({ ...w, size: 2, maxSeq }), terms });
            expect(first.items.map(plain)).toEqual(want.slice(0, 2));
            expect(first.total).toBe(want.length);
            const second = await reader.search({ ...query({ ...w, size: 2, page: 1, maxSeq }), terms });
            expect(second.items.map(plain)).toEqual(want.slice(2, 4));
            if (first.items.length === 2) {
              const next = await reader.search({
                ...query({ ...w, size: 2, maxSeq, cursor: cursorOf(first) }),
                terms,
              });
              expect(next.items.map(plain)).toEqual(want.slice(2, 4));
            }
          }
        });

      it("keeps an exact total past the exact-count bound to the events stored up to maxSeq", async () => {
        const many = Array.from({ length: EXACT_TOTAL_BOUND + 50 }, (_, i) =>
          event({ timestamp: T0 + (i % 600) * 1000, source: i < 40 ? "rare" : "bulk" }),
        );
        await write(many);
        const maxSeq = await reader.watermark();
        await write(
          Array.from({ length: 30 }, (_, i) =>
            event({ timestamp: T0 + i * 7_000 + 1, source: i < 5 ? "rare" : "bulk" }),
          ),
        );
        const all = await reader.page(query({ size: 10, maxSeq }));
        // A store may answer an estimate past the bound; an exact answer must be the snapshot's count.
        if (all.totalExact) expect(all.total).toBe(many.length);
        else expect(all.total).toBeGreaterThan(EXACT_TOTAL_BOUND);
        expect(all.items.map((i) => i.seq).every((seq) => seq <= maxSeq)).toBe(true);
        const rare = await reader.page(query({ sources: ["rare"], size: 10, maxSeq }));
        expect(rare.total).toBe(40);
        expect(rare.totalExact).toBe(true);
      });

      it("tails from maxSeq exactly the events a listing at maxSeq leaves out", async () => {
        const { later, all, maxSeq } = await seedSnapshot();
        const tailOf = (over: Partial<TailQuery>) =>
          reader.tail({ afterSeq: maxSeq, levels: [], sources: [], limit: 100, ...over });
        expect((await tailOf({})).map(plain)).toEqual(later);
        const w = windows[0] as { start: number; end: number };
        for (const filter of [
          { levels: [] as Level[], sources: ["web"] },
          { levels: ["ERROR"] as Level[], sources: [] },
        ]) {
          const keep = (e: LogEvent) =>
            (!filter.levels.length || filter.levels.includes(e.level)) &&
            (!filter.sources.length || filter.sources.includes(e.source));
          const listed = await reader.page(query({ ...w, ...filter, size: 100, maxSeq }));
          const live = await tailOf(filter);
          expect(live.map(plain)).toEqual(later.filter(keep));
          expect([...listed.items, ...live].map(plain).sort(newestFirst)).toEqual(
            all.filter(keep).sort(newestFirst),
          );
        }
        const terms = parseSearch("slow");
        const found = await reader.search({ ...query({ ...w, size: 100, maxSeq }), terms });
        const live = await tailOf({ terms });
        expect([...found.items, ...live].map(plain).sort(newestFirst)).toEqual(
          all.filter((e) => matchTerms(terms, e.message)).sort(newestFirst),
        );
      });

      it("tails nothing past untilSeq, even when only later events match", async () => {
        const { earlier, maxSeq } = await seedSnapshot();
        const upTo = (over: Partial<TailQuery>) =>
          reader.tail({ afterSeq: 0, untilSeq: maxSeq, levels: [], sources: [], limit: 100, ...over });
        expect((await upTo({})).map(plain)).toEqual(earlier);
        expect((await upTo({ limit: 5 })).map(plain)).toEqual(earlier.slice(0, 5));
        expect((await upTo({ terms: parseSearch("slow") })).map(plain)).toEqual(
          earlier.filter((e) => e.message.endsWith("slow")),
        );
        expect(await upTo({ terms: parseSearch("newest") })).toEqual([]);
        expect(await upTo({ terms: parseSearch("tie"), limit: 1 })).toEqual([]);
      });

      it("a text-filtered tail short of its limit has examined every event up to untilSeq", async () => {
        await write([event({ message: "before" })]);
        const from = await reader.watermark();
        // Messages too large to index whole: every search looks at them, and the exact filter rejects them.
        const huge = (n: number) => Array.from({ length: 30_000 }, (_, i) => `w${n}x${i}`).join(" ");
        await write(Array.from({ length: 10 }, (_, n) => event({ message: huge(n) })));
        const needle = event({ message: "the needle" });
        await write([needle]);
        const until = await reader.watermark();
        const found = await reader.tail({
          afterSeq: from,
          untilSeq: until,
          levels: [],
          sources: [],
          terms: parseSearch("needle"),
          limit: 1,
        });
        expect(found.map(plain)).toEqual([needle]);
      });
    });

    describe("stats", () => {
      it("counts from one window: total equals the sum by level and by source", async () => {
        const events = [
          event({ timestamp: T0 - 1, level: "ERROR" }), // before the window
          event({ timestamp: T0, level: "INFO", source: "api" }),
          event({ timestamp: T0 + 30_000, level: "WARN", source: "web" }),
          event({ timestamp: T0 + MINUTE, level: "INFO", source: "web" }),
          event({ timestamp: T0 + 2 * MINUTE + 59_999, level: "ERROR", source: "api" }),
          event({ timestamp: T0 + 3 * MINUTE, level: "INFO" }), // after the window
        ];
        await write(events);
        await write([{ ...(events[1] as LogEvent), timestamp: T0 + MINUTE }]); // a duplicate counts nothing
        const stats = await reader.stats({
          start: T0,
          end: T0 + 3 * MINUTE - 1,
          bucketMs: MINUTE,
          maxSources: 100,
        });
        expect(stats.totalLogs).toBe(4);
        expect(stats.levelCounts).toEqual({ INFO: 2, WARN: 1, ERROR: 1 });
        expect(stats.sourceCounts).toEqual({ api: 2, web: 2 });
        const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
        expect(sum(Object.values(stats.levelCounts))).toBe(stats.totalLogs);
        expect(sum(Object.values(stats.sourceCounts))).toBe(stats.totalLogs);
        expect(stats.histogram.map((b) => [b.start, b.count])).toEqual([
          [T0, 2],
          [T0 + MINUTE, 1],
          [T0 + 2 * MINUTE, 1],
        ]);
        expect(stats.histogram[0]?.levels).toEqual({ INFO: 1, WARN: 1 });
        const wide = await reader.stats({
          start: T0,
          end: T0 + 3 * MINUTE - 1,
          bucketMs: 3 * MINUTE,
          maxSources: 100,
        });
        expect(wide.histogram.map((b) => [b.start, b.count])).toEqual([[T0, 4]]);
      });

      it("agrees with the events over hours of data and windows cut mid-hour", async () => {
        const levels: Level[] = ["DEBUG", "INFO", "WARN", "ERROR"];
        const events = Array.from({ length: 300 }, (_, i) =>
          event({
            timestamp: T0 - 4 * 60 * MINUTE + i * 53_000,
            level: levels[i % 4] as Level,
            source: `s${i % 7}`,
          }),
        );
        await write(events);
        for (const [start, end, bucketMs] of [
          [T0 - 3 * 60 * MINUTE + 17 * MINUTE + 1234, T0 - 37 * MINUTE, 10 * MINUTE],
          [T0 - 4 * 60 * MINUTE, T0 + 60 * MINUTE, 60 * MINUTE],
          [T0 - 2 * 60 * MINUTE + 5 * MINUTE, T0 - 2 * 60 * MINUTE + 50 * MINUTE, MINUTE],
        ] as const) {
          const from = Math.floor(start / MINUTE) * MINUTE;
          const inside = events.filter(
            (e) => e.timestamp >= from && Math.floor(e.timestamp / MINUTE) * MINUTE <= end,
          );
          const stats = await reader.stats({ start, end, bucketMs, maxSources: 100 });
          expect(stats.totalLogs).toBe(inside.length);
          const bySource: Record<string, number> = {};
          const byLevel: Partial<Record<Level, number>> = {};
          for (const e of inside) {
            bySource[e.source] = (bySource[e.source] ?? 0) + 1;
            byLevel[e.level] = (byLevel[e.level] ?? 0) + 1;
          }
          expect(stats.sourceCounts).toEqual(bySource);
          expect(stats.levelCounts).toEqual(byLevel);
          const buckets = stats.histogram.filter((b) => b.count > 0);
          const want = new Map<number, number>();
          for (const e of inside) {
            const b = from + Math.floor((e.timestamp - from) / bucketMs) * bucketMs;
            want.set(b, (want.get(b) ?? 0) + 1);
          }
          expect(buckets.map((b) => [b.start, b.count])).toEqual([...want].sort((x, y) => x[0] - y[0]));
          expect(stats.histogram[0]?.start).toBe(from);
        }
      });
      it("lists no source whose events in the window's edge hours all fall outside the window", async () => {
        const HOUR = 60 * MINUTE;
        const hour = Math.floor(T0 / HOUR) * HOUR - 2 * HOUR;
        // The window covers 50 minutes of each edge hour: each may be read as the hour less 10 minutes.
        const start = hour + 10 * MINUTE;
        const end = hour + 2 * HOUR + 50 * MINUTE - 1;
        await write([
          event({ timestamp: hour + 2 * MINUTE, source: "before" }),
          event({ timestamp: hour + 2 * HOUR + 55 * MINUTE, source: "after" }),
          event({ timestamp: hour + HOUR, source: "inside" }),
          event({ timestamp: hour + 20 * MINUTE, source: "inside" }),
        ]);
        const stats = await reader.stats({ start, end, bucketMs: HOUR, maxSources: 100 });
        expect(stats.totalLogs).toBe(2);
        expect(stats.sourceCounts).toEqual({ inside: 2 });
        expect(stats.otherSources).toBe(0);
      });
    });

    describe("retention", () => {
      const DAY = 86_400_000;
      /** Noon, ten days before today (UTC): well before a three-day retention's cutoff. */
      const OLD = (Math.floor(Date.now() / DAY) - 10) * DAY + 12 * 60 * MINUTE;

      it("removes events older than the cutoff day with their search entries and counts, and keeps the rest", async () => {
        const old = Array.from({ length: 2_500 }, (_, i) =>
          event({ timestamp: OLD + i * 1000, message: `ancient disk ${i}`, source: `old${i % 3}` }),
        );
        const recent = Array.from({ length: 30 }, (_, i) =>
          event({ timestamp: T0 + i * 1000, message: `recent disk ${i}`, level: i % 2 ? "WARN" : "INFO" }),
        );
        for (let from = 0; from < old.length; from += 1000) await write(old.slice(from, from + 1000));
        await write(recent);
        const mark = await reader.watermark();
        const whole = { start: OLD - DAY, end: T0 + 60 * MINUTE };
        expect((await reader.stats({ ...whole, bucketMs: 60 * MINUTE, maxSources: 100 })).totalLogs).toBe(
          2_530,
        );

        expect((await writer.retain(3)).length).toBeGreaterThan(0);

        for (const e of [old[0], old[1_999], old[2_499]])
          expect(await reader.findById((e as LogEvent).id)).toBeUndefined();
        for (const e of recent) expect(await reader.findById(e.id)).toBeDefined();
        const page = await reader.page(query({ ...whole, size: 100 }));
        expect(page.total).toBe(30);
        expect(page.items.map((i) => i.id).sort()).toEqual(recent.map((e) => e.id).sort());
        const oldWindow = { start: OLD - MINUTE, end: OLD + DAY / 2 };
        expect((await reader.page(query({ ...oldWindow }))).items).toEqual([]);
        expect((await reader.search({ ...query(whole), terms: parseSearch("ancient") })).items).toEqual([]);
        const found = await reader.search({ ...query({ ...whole, size: 100 }), terms: parseSearch("disk") });
        expect(found.items.map((i) => i.id).sort()).toEqual(recent.map((e) => e.id).sort());
        const stats = await reader.stats({ ...whole, bucketMs: 60 * MINUTE, maxSources: 100 });
        expect(stats.totalLogs).toBe(30);
        expect(stats.sourceCounts).toEqual({ api: 30 });
        expect(stats.levelCounts).toEqual({ INFO: 15, WARN: 15 });
        expect((await reader.stats({ ...oldWindow, bucketMs: MINUTE, maxSources: 100 })).totalLogs).toBe(0);
        expect(await reader.watermark()).toBe(mark);
        // Nothing more to remove, and new events are stored after it.
        expect(await writer.retain(3)).toEqual([]);
        await write([event({ message: "after retention" })]);
        expect(await reader.watermark()).toBeGreaterThan(mark);
      });

      it("keeps the watermark where it was when every event is removed", async () => {
        await write([event({ timestamp: OLD }), event({ timestamp: OLD + 1 })]);
        const mark = await reader.watermark();
        await writer.retain(3);
        expect((await reader.page(query({ start: OLD - MINUTE, end: T0 }))).total).toBe(0);
        // Caches key on the watermark: were it to go back, answers cached before would be served again.
        expect(await reader.watermark()).toBe(mark);
      });

      it("keeps everything when the cutoff is before every event, or retention is off", async () => {
        const events = [event({ timestamp: OLD }), event()];
        await write(events);
        expect(await writer.retain(30)).toEqual([]);
        expect(await writer.retain(0)).toEqual([]);
        for (const e of events) expect(await reader.findById(e.id)).toBeDefined();
      });
    });

    describe("tail and watermark", () => {
      it("returns events after a sequence in arrival order, filtered, up to the limit", async () => {
        expect(await reader.watermark()).toBe(0);
        const first = [
          event({ timestamp: T0 + 5000, message: "disk full", level: "ERROR" }),
          event({ timestamp: T0 + 1000, message: "started", source: "web" }),
          event({ timestamp: T0 + 9000, message: "disk ok" }),
        ];
        const second = [event({ timestamp: T0, message: "late disk event", level: "WARN", source: "web" })];
        await write(first);
        const mark = await reader.watermark();
        await write(second);
        expect(await reader.watermark()).toBeGreaterThan(mark);
        const all = await reader.tail({ afterSeq: 0, levels: [], sources: [], limit: 100 });
        expect(all.map(plain)).toEqual([...first, ...second]);
        const seqs = all.map((e) => e.seq);
        expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(await reader.watermark()).toBe(Math.max(...seqs));
        const afterMark = await reader.tail({ afterSeq: mark, levels: [], sources: [], limit: 100 });
        expect(afterMark.map(plain)).toEqual(second);
        const limited = await reader.tail({ afterSeq: 0, levels: [], sources: [], limit: 2 });
        expect(limited.map(plain)).toEqual(first.slice(0, 2));
        const web = await reader.tail({ afterSeq: 0, levels: [], sources: ["web"], limit: 100 });
        expect(web.map((e) => e.message)).toEqual(["started", "late disk event"]);
        const warn = await reader.tail({ afterSeq: 0, levels: ["WARN", "ERROR"], sources: [], limit: 100 });
        expect(warn.map((e) => e.message)).toEqual(["disk full", "late disk event"]);
        const disk = await reader.tail({
          afterSeq: 0,
          levels: [],
          sources: [],
          terms: parseSearch("disk -ok"),
          limit: 100,
        });
        expect(disk.map((e) => e.message)).toEqual(["disk full", "late disk event"]);
      });
    });
  });
};
