// The write path's COPY binary rows, read back by PostgreSQL: every field as its text form would store it; and
// times at the ends of the range found by id, through the id claim and the COPY alike.

import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import postgres from "postgres";
import { copyChunks } from "../../src/adapters/store/postgres/copy.ts";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { tsvectorText } from "../../src/adapters/store/postgres/tsv.ts";
import { encode, encoder } from "../../src/adapters/store/postgres/write-rows.ts";
import { LEVELS, type Level } from "../../src/domain/level.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { MAX_TIME_MS, MIN_TIME_MS } from "../../src/domain/time.ts";
import { TEST_POSTGRES_URL, testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { batchOf } from "../helpers/write-batch.ts";

const schema = uniqueName("copybin");
const sql = postgres(TEST_POSTGRES_URL, {
  max: 1,
  onnotice: () => {},
  connection: { search_path: schema, TimeZone: "UTC" },
});

const MESSAGES = [
  "plain ascii words",
  "Repeated words repeated WORDS, repeated: three positions",
  "héllo wörld ✓ 日本語 😀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and a\\backslash 'quoted' \"double\" tab\there new\nline",
  "zzz 𝔞 \uffef ￿x 𝔞 émoji😀word", // a surrogate pair sorts before U+FFEF in code units, after it in bytes
  `long ${"a".repeat(300)} token`,
  Array.from({ length: 300 }, () => "same").join(" "), // past 256 positions of one lexeme: lossy
  Array.from({ length: 17_000 }, (_, i) => `p${i}`).join(" "), // positions past 16383: lossy
  Array.from({ length: 40_000 }, (_, i) => `unique${i}`).join(" "), // past the index budget: unindexed
  "",
  "!!! ... ---",
  // Words of a small vocabulary in mixed case, repeated, so that many share a hash slot or a lexeme.
  ...Array.from({ length: 200 }, (_, i) =>
    Array.from({ length: 1 + ((i * 7) % 60) }, (_, j) => {
      const w = ["a", "Ab", "aB", "abc", "x1", "X1", "req-42", "GET", "get", "Zz9"][
        (i * 13 + j * j) % 10
      ] as string;
      return j % 3 ? w : `${w}${i % 17}`;
    }).join(i % 2 ? " " : "/"),
  ),
];

const event = (i: number, message: string, timestamp: number): LogEvent => ({
  id: `id-${i}`,
  level: LEVELS[i % LEVELS.length] as Level,
  message,
  source: `svc-${i % 3}-ünï`,
  timestamp,
  metadata: i % 2 ? { n: i, note: "tab\there ✓ \\ 😀", nested: { a: [1, 2.5, null, true] } } : null,
});

beforeAll(async () => {
  await sql.unsafe(`create schema ${schema}`);
  await sql`create table t (seq bigint, created_at timestamptz, ts timestamptz, id text, level text, source text,
    message text, metadata json, tsv tsvector, kafka_partition int, kafka_offset bigint)`;
});
afterAll(async () => {
  await sql.unsafe(`drop schema if exists ${schema} cascade`);
  await sql.end();
});

describe("COPY binary rows", () => {
  it("store each field as the text form does: times, ids, text, metadata and the tsvector", async () => {
    const times = [
      MIN_TIME_MS,
      946_684_799_999,
      946_684_800_000,
      Date.UTC(2026, 11, 6, 23, 59, 59, 999),
      MAX_TIME_MS,
    ];
    const events = MESSAGES.flatMap((m, i) => times.map((t, k) => event(i * times.length + k, m, t)));
    const rows = events.map((e, i) => encode({ event: e, partition: i % 6, offset: String(2 ** 40 + i) }));
    const reserved = await sql.reserve();
    try {
      await copyChunks(
        reserved`copy t (seq, created_at, ts, id, level, source, message, metadata, tsv, kafka_partition, kafka_offset)
          from stdin (format binary)`,
        encoder(rows, 2 ** 33, BigInt(Date.UTC(2025, 11, 4) - 946_684_800_000) * 1000n + 123_456n),
        30_000,
      );
    } finally {
      reserved.release();
    }
    const stored = await sql<
      {
        seq: string;
        created_at: string;
        ts: string;
        id: string;
        level: string;
        source: string;
        message: string;
        metadata: unknown;
        tsv_ok: boolean;
        tsv: string;
        kafka_partition: number;
        kafka_offset: string;
      }[]
    >`select seq::text, created_at::text, (extract(epoch from ts) * 1000)::int8::text as ts, id, level, source,
        message, metadata, tsv = (${sql.array(events.map((e) => tsvectorText(e.message)))}::tsvector[])[seq - ${2 ** 33}]
        as tsv_ok, tsv::text, kafka_partition, kafka_offset::text from t order by seq`;
    expect(stored).toHaveLength(events.length);
    stored.forEach((r, i) => {
      const e = events[i] as LogEvent;
      expect(r.seq).toBe(String(2 ** 33 + 1 + i));
      expect(r.created_at).toBe("2025-12-04 00:00:00.123456+00");
      expect(r.ts).toBe(String(e.timestamp));
      expect([r.id, r.level, r.source, r.message]).toEqual([e.id, e.level, e.source, e.message]);
      expect(r.metadata).toEqual(e.metadata);
      if (!r.tsv_ok) throw new Error(`tsvector of message ${i} differs: ${r.tsv.slice(0, 300)}`);
      expect(r.kafka_partition).toBe(i % 6);
      expect(r.kafka_offset).toBe(String(2 ** 40 + i));
    });
    // The markers are there, and a search for a word of a message finds it.
    const [marks] = await sql<{ lossy: number; unindexed: number; found: number; astral: number }[]>`
      select count(*) filter (where tsv @@ '''~lossy'''::tsquery)::int as lossy,
        count(*) filter (where tsv @@ '''~unindexed'''::tsquery)::int as unindexed,
        count(*) filter (where tsv @@ '''日本語'' & ''wörld'''::tsquery)::int as found,
        count(*) filter (where tsv @@ '''𝔞'' & ''émoji'''::tsquery)::int as astral from t`;
    expect(marks).toEqual({
      lossy: 2 * times.length,
      unindexed: times.length,
      found: times.length,
      astral: times.length,
    });
  });
});

describe("times at the ends of the range", () => {
  const storeSchema = uniqueName("t");
  const store = createPostgresStore(testPostgresConfig(), { schema: storeSchema });
  afterAll(async () => {
    await store.sql.unsafe(`drop schema if exists "${storeSchema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  it("are found by id exactly as written, through the id claim and the COPY alike", async () => {
    await store.writer.start();
    await store.reader.start();
    const times = [MIN_TIME_MS, 946_684_800_001, 72_057_594_037_928, 134_617_828_638_133, MAX_TIME_MS];
    const events = times.map((t, i) => event(900 + i, `at ${t}`, t));
    await store.writer.write(batchOf(events));
    for (const e of events) expect((await store.reader.findById(e.id))?.timestamp).toBe(e.timestamp);
  });
});
