// SQLite retention: deletes in chunks that let the event loop run, and leaves the FTS index consistent.

import { describe, expect, it } from "bun:test";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { parseSearch } from "../../src/domain/search-syntax.ts";

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;

const events = (n: number, ts: number, word: string): LogEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${word}-${i}`,
    level: "INFO",
    message: `${word} message ${i}`,
    source: "api",
    timestamp: ts + i,
    metadata: null,
  }));

const setup = async (chunkRows: number) => {
  const store = createSqliteStore(":memory:", { retention: { chunkRows } });
  const old = events(95, today - 5 * DAY, "ancient");
  const fresh = events(5, today + 1000, "recent");
  await store.writer.write({
    group: "g",
    topic: "t",
    events: [...old, ...fresh].map((event, i) => ({ event, partition: 0, offset: String(i) })),
    nextOffsets: new Map([[0, "100"]]),
  });
  return { store, old, fresh };
};

describe("sqlite retention", () => {
  it("removes old rows in chunks, yielding to the event loop between them", async () => {
    const { store } = await setup(10);
    const immediate = new Promise<void>((resolve) => setImmediate(resolve));
    const retained = store.writer.retain(2);
    let settled = false;
    void retained.then(() => {
      settled = true;
    });
    // Scheduled before retention began and run before it ended: the ten chunks did not hold the loop.
    await immediate;
    expect(settled).toBe(false);
    await retained;
    const left = store.db.query<{ n: number }, []>("SELECT count(*) AS n FROM log_events").get();
    expect(left?.n).toBe(5);
  });

  it("leaves the text index and every rollup consistent with the rows left", async () => {
    const { store, fresh } = await setup(7);
    await store.writer.retain(2);
    // FTS5's own check of its index structures; it throws on a corrupt index.
    expect(() => store.db.run("INSERT INTO log_terms (log_terms) VALUES ('integrity-check')")).not.toThrow();
    // Entries of the deleted rows would still match here (the index is contentless: no join hides them).
    const fts = store.db
      .query<{ n: number }, []>("SELECT count(*) AS n FROM log_terms WHERE log_terms MATCH 'message'")
      .get();
    expect(fts?.n).toBe(5);
    const q = { start: 0, end: today + DAY, levels: [], sources: [], size: 50, page: 0 };
    const found = await store.reader.search({ ...q, terms: parseSearch("message") });
    expect(found.items.map((i) => i.id).sort()).toEqual(fresh.map((e) => e.id).sort());
    for (const table of ["log_rollup_minute", "log_rollup_minute_level", "log_rollup_hour"]) {
      const rollups = store.db.query<{ n: number }, []>(`SELECT sum(count) AS n FROM ${table}`).get();
      expect(rollups?.n).toBe(5);
    }
  });
});
