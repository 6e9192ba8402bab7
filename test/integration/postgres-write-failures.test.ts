// PostgreSQL write failures: refused data becomes UnstorableError (and the persister isolates it); a COPY timeout frees the connection.

import { afterEach, beforeEach, describe, expect, it } from "bun:test";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { PostgresConfig } from "../../src/config/load.ts";
import { UnstorableError } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { encodeEvent } from "../../src/domain/wire.ts";
import type { BusRecord, DeadLetter } from "../../src/ports/log-bus.ts";
import type { WriteBatch } from "../../src/ports/log-store.ts";
import { createPersister } from "../../src/services/persist.ts";
import { TEST_POSTGRES_URL, uniqueName } from "../helpers/services.ts";

const cfg: PostgresConfig = {
  url: TEST_POSTGRES_URL,
  readUrl: TEST_POSTGRES_URL,
  username: undefined,
  password: undefined,
  ssl: "disable",
  sslCa: undefined,
  poolSize: 4,
};

const now = Date.now();
const YEAR_10000 = Date.UTC(10000, 0, 1);
let n = 0;
const event = (over: Partial<LogEvent> = {}): LogEvent => ({
  id: `e${n++}`,
  level: "INFO",
  message: "fine",
  source: "api",
  timestamp: now,
  metadata: null,
  ...over,
});
const batchOf = (events: LogEvent[], from = 0): WriteBatch => ({
  group: "g",
  topic: "logs",
  events: events.map((e, i) => ({ event: e, partition: 0, offset: String(from + i) })),
  nextOffsets: new Map([[0, String(from + events.length)]]),
});

describe("postgres store write failures", () => {
  let schema: string;
  let store: PostgresStore;
  beforeEach(async () => {
    schema = uniqueName("t");
    store = createPostgresStore(cfg, { schema, applicationName: schema });
    await store.writer.start();
    await store.reader.start();
  });
  afterEach(async () => {
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  const stored = async () =>
    Number((await store.sql<{ n: string }[]>`select count(*) as n from log_events`)[0]?.n);

  for (const [what, bad] of [
    ["a NUL character in the message", event({ message: "a\u0000b" })],
    ["a lone surrogate in the source", event({ source: "x\uD800" })],
    ["a NUL character inside metadata (refused by jsonb)", event({ metadata: { k: "a\u0000b" } })],
    ["a timestamp past year 9999 (refused by timestamptz)", event({ timestamp: YEAR_10000 })],
  ] as const)
    it(`refuses ${what} with UnstorableError, stores nothing of the batch and keeps working`, async () => {
      const batch = batchOf([event(), bad, event()]);
      const failure = await store.writer.write(batch).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UnstorableError);
      expect(await stored()).toBe(0);
      expect(await store.writer.committedOffsets("g", "logs")).toEqual(new Map());
      expect(await store.writer.write(batchOf([event()], 3))).toEqual({ inserted: 1, duplicates: 0 });
      expect(await store.reader.watermark()).toBe(1);
    });

  it("lets the persister dead-letter the one refused record and store the rest", async () => {
    const events = Array.from({ length: 7 }, (_, i) => event({ timestamp: i === 4 ? YEAR_10000 : now - i }));
    const records: BusRecord[] = events.map((e, i) => ({
      partition: 2,
      offset: String(100 + i),
      key: e.source,
      value: new TextEncoder().encode(encodeEvent(e)),
      timestamp: now,
    }));
    const letters: DeadLetter[] = [];
    const persist = createPersister({
      writer: store.writer,
      subscriber: { deadLetter: async (l) => void letters.push(...l) },
      group: "g",
    });
    await persist({ topic: "logs", records });
    expect(letters.map((l) => [l.reason, l.record.offset])).toEqual([["unstorable", "104"]]);
    expect(await stored()).toBe(6);
    expect(await store.reader.findById((events[4] as LogEvent).id)).toBeUndefined();
    expect(await store.writer.committedOffsets("g", "logs")).toEqual(new Map([[2, "107"]]));
  });

  it("ends a COPY that outlives its timeout: retryable error, nothing stored, no connection left behind", async () => {
    const hasty = createPostgresStore(cfg, { schema, copyTimeoutMs: 1, applicationName: `${schema}_hasty` });
    try {
      // Megabytes of COPY data cannot reach the server within one millisecond.
      const big = Array.from({ length: 20_000 }, (_, i) =>
        event({ message: `${"payload ".repeat(40)}${i}` }),
      );
      const failure = await hasty.writer.write(batchOf(big)).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(UnstorableError);
      expect((failure as Error).name).toBe("CopyTimeoutError");
      expect(await stored()).toBe(0);
      expect(await store.writer.committedOffsets("g", "logs")).toEqual(new Map());
      // The write connection was destroyed: no session of that writer is left inside a transaction.
      let lingering = 1;
      for (let i = 0; i < 50 && lingering > 0; i++) {
        const [row] = await store.sql<{ n: string }[]>`select count(*) as n from pg_stat_activity
          where application_name = ${`${schema}_hasty-writer`} and state <> 'idle'`;
        lingering = Number(row?.n);
        if (lingering) await Bun.sleep(100);
      }
      expect(lingering).toBe(0);
      // The same writer works again on a fresh connection (a batch without rows needs no COPY).
      await hasty.writer.write({ group: "g", topic: "logs", events: [], nextOffsets: new Map([[0, "5"]]) });
      expect(await store.writer.committedOffsets("g", "logs")).toEqual(new Map([[0, "5"]]));
      expect(await store.writer.write(batchOf(big.slice(0, 100), 5))).toEqual({
        inserted: 100,
        duplicates: 0,
      });
    } finally {
      await hasty.writer.stop();
    }
  });
});
