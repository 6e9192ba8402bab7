// The embedded store answers every search as the PostgreSQL store does: the same events written to both,
// every search-syntax case (words, phrases, exclusions, case, paths, addresses, symbols, non-ASCII) run on
// both, pages and totals compared, including terms common enough for the walk and rare enough for the index.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { LogPage, SearchQuery } from "../../src/domain/query.ts";
import { parseSearch } from "../../src/domain/search-syntax.ts";
import type { LogReader, LogWriter } from "../../src/ports/log-store.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";

const T0 = Date.UTC(2026, 0, 10, 12);
const MESSAGES = [
  "GET /api/users.json answered 200 in 12ms",
  "user@example.com signed in from 10.0.0.1",
  "price$100 charged to card ending 4242",
  "Ünïcödé naïve café résumé",
  "Straße und STRASSE sind gleich?",
  "日本語 のログ メッセージ",
  "emoji 🚀 launch_sequence started",
  "Disk check: DISK almost full on /dev/sda1",
  "connection timeout after retry; upstream=db-primary",
  "snake_case and kebab-case and CamelCase words",
  "the quick brown fox jumps over the lazy dog",
  "quick fox, brown dog",
];
const QUERIES = [
  "user",
  "users",
  "json",
  "api users",
  "example",
  "10",
  "price",
  "100",
  "ünïcödé",
  "café",
  "straße",
  "日本語",
  "launch",
  "sequence",
  "disk",
  "DISK check",
  '"disk check"',
  '"quick brown"',
  '"brown fox"',
  "quick -dog",
  'fox -"lazy dog"',
  "-disk",
  "-quick -fox",
  "timeout retry upstream",
  "case",
  "kebab",
  "common",
  "rare",
  "common -user",
  '"common filler"',
];

let dir: string;
let schema: string;
let stores: { name: string; reader: LogReader; writer: LogWriter; stop(): Promise<void> }[] = [];

/** 3,000 events: the special messages, and fillers where "common" is in every third and "rare" in few. */
const events = (): LogEvent[] =>
  Array.from({ length: 3000 }, (_, i) => ({
    id: `e-${String(i).padStart(5, "0")}`,
    level: (["INFO", "WARN", "ERROR"] as const)[i % 3] as LogEvent["level"],
    source: `svc-${i % 4}`,
    message:
      i % 10 === 0
        ? (MESSAGES[(i / 10) % MESSAGES.length] as string)
        : `${i % 3 === 0 ? "common " : ""}filler ${i % 997 === 0 ? "rare" : "word"} ${i}`,
    timestamp: T0 + Math.floor(i / 2) * 1000,
    metadata: null,
  }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "logproc-parity-"));
  schema = uniqueName("parity");
  const sqlite = createSqliteStore(join(dir, "logs.db"));
  const pg = createPostgresStore(testPostgresConfig(), { schema });
  stores = [
    {
      name: "sqlite",
      ...sqlite,
      stop: async () => {
        await sqlite.writer.stop();
        await sqlite.reader.stop();
      },
    },
    {
      name: "postgres",
      ...pg,
      stop: async () => {
        await pg.sql.unsafe(`drop schema if exists "${schema}" cascade`);
        await pg.writer.stop();
        await pg.reader.stop();
      },
    },
  ];
  const all = events();
  for (const s of stores) {
    await s.writer.start();
    await s.reader.start();
    for (let i = 0; i < all.length; i += 500)
      await s.writer.write({
        group: "g",
        topic: "t",
        events: all.slice(i, i + 500).map((event, k) => ({ event, partition: 0, offset: String(i + k) })),
        nextOffsets: new Map([[0, String(i + 500)]]),
      });
  }
});

afterAll(async () => {
  for (const s of stores) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const shape = (p: LogPage) => ({
  ids: p.items.map((i) => i.id),
  matched: p.items.map((i) => i.matched),
  total: p.totalExact ? p.total : "estimate",
  hasMore: p.hasMore,
});

const ask = (q: Partial<SearchQuery> & { text: string }): Promise<ReturnType<typeof shape>[]> =>
  Promise.all(
    stores.map(async (s) =>
      shape(
        await s.reader.search({
          start: T0 - 1000,
          end: T0 + 3_600_000,
          levels: [],
          sources: [],
          size: 20,
          page: 0,
          ...q,
          terms: parseSearch(q.text),
        }),
      ),
    ),
  );

describe("the embedded store searches as PostgreSQL does", () => {
  for (const text of QUERIES)
    test(`"${text}": same page, same matched terms, same total`, async () => {
      const [sqlite, pg] = await ask({ text });
      expect(sqlite).toEqual(pg as ReturnType<typeof shape>);
      if (!["rare", "-disk", "quick -dog"].includes(text)) expect(sqlite?.ids.length ?? 0).toBeGreaterThan(0);
    });

  test("with level and source filters, a second page and a narrow window", async () => {
    for (const q of [
      { text: "common", levels: ["INFO" as const] },
      { text: "filler", sources: ["svc-1", "svc-2"] },
      { text: "common", page: 3 },
      { text: "word -common", start: T0 + 100_000, end: T0 + 200_000 },
    ]) {
      const [sqlite, pg] = await ask(q);
      expect(sqlite).toEqual(pg as ReturnType<typeof shape>);
    }
  });
});
