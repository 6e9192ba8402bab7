// Metadata in PostgreSQL: stored as json since migration 006, as jsonb in rows stored before it. Every read
// path gives both back the same way, and json keeps the object as the client sent it.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { LogEvent, Metadata, StoredLogEvent } from "../../src/domain/log-event.ts";
import { parseSearch } from "../../src/domain/search-syntax.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { batchOf } from "../helpers/write-batch.ts";

setDefaultTimeout(120_000);

const now = Date.now();
/** Keys out of jsonb's order (shorter keys first), nested values of every kind. */
const META = { zebra: "z", a: 1, nested: { list: [1, 2.5, null, true, "s"], ok: false }, mid: "✓ 😀" };

/** A row as the writer stored it before migration 006: metadata in the jsonb column, seq 1. */
const old: LogEvent = {
  id: "old",
  level: "WARN",
  message: "marker old",
  source: "s",
  timestamp: now - 2,
  metadata: META,
};
const fresh: LogEvent = {
  id: "new",
  level: "WARN",
  message: "marker new",
  source: "s",
  timestamp: now - 1,
  metadata: META,
};
const bare: LogEvent = {
  id: "bare",
  level: "WARN",
  message: "marker bare",
  source: "s",
  timestamp: now,
  metadata: null,
};

describe("postgres metadata", () => {
  const schema = uniqueName("t");
  const store = createPostgresStore(testPostgresConfig(), { schema });

  beforeAll(async () => {
    await store.writer.start();
    await store.reader.start();
    await store.sql`
      insert into log_events (ts, id, seq, level, source, message, metadata, tsv, created_at, kafka_partition, kafka_offset)
      values (${new Date(old.timestamp)}, ${old.id}, 1, ${old.level}, ${old.source}, ${old.message},
        ${store.sql.json(META)}::jsonb, 'marker old'::tsvector, now(), 0, 0)`;
    await store.sql`insert into log_rollup_minute (minute, level, source, count)
      values (date_trunc('minute', ${new Date(old.timestamp)}::timestamptz), ${old.level}, ${old.source}, 1)`;
    await store.sql`insert into log_event_ids (id, ts) values (${old.id}, ${new Date(old.timestamp)})`;
    await store.sql`update log_watermark set seq = 1`;
    await store.writer.write(batchOf([fresh, bare]));
  });
  afterAll(async () => {
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  const byId = (items: StoredLogEvent[]) => new Map(items.map((e) => [e.id, e.metadata]));
  const window = { start: now - 60_000, end: now + 60_000, levels: [], sources: [], size: 10, page: 0 };

  it("stores new metadata as json, in the order the client sent its keys", async () => {
    const [row] = await store.sql<{ json: string | null; jsonb: unknown }[]>`
      select metadata_json::text as json, metadata as jsonb from log_events where id = 'new'`;
    expect(row).toEqual({ json: JSON.stringify(META), jsonb: null });
    const found = await store.reader.findById("new");
    expect(JSON.stringify(found?.metadata)).toBe(JSON.stringify(META));
  });

  it("reads rows stored before migration 006 and after it alike, on every path", async () => {
    const [stored] = await store.sql<
      { t: string }[]
    >`select jsonb_typeof(metadata) as t from log_events where id = 'old'`;
    expect(stored?.t).toBe("object");
    const want = new Map<string, Metadata | null>([
      ["old", META],
      ["new", META],
      ["bare", null],
    ]);
    for (const id of want.keys())
      expect([id, (await store.reader.findById(id))?.metadata]).toEqual([id, want.get(id)]);
    expect(byId((await store.reader.page(window)).items)).toEqual(want);
    expect(byId((await store.reader.page({ ...window, sources: ["s"] })).items)).toEqual(want);
    expect(byId((await store.reader.search({ ...window, terms: parseSearch("marker") })).items)).toEqual(
      want,
    );
    expect(byId(await store.reader.tail({ afterSeq: 0, levels: [], sources: [], limit: 10 }))).toEqual(want);
  });
});
