// PostgreSQL write failures: refused data becomes UnstorableError (and the persister isolates it); a COPY timeout frees the connection.

import { afterEach, beforeEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { openPool, type Sql } from "../../src/adapters/store/postgres/connect.ts";
import {
  announcer,
  createPostgresStore,
  type PostgresStore,
} from "../../src/adapters/store/postgres/store.ts";
import { createWriter, WriteConnectionClosedError } from "../../src/adapters/store/postgres/writer.ts";
import { UnstorableError } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { encodeEvent, encodeRecord } from "../../src/domain/wire.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { BusRecord, DeadLetter } from "../../src/ports/log-bus.ts";
import type { WriteBatch } from "../../src/ports/log-store.ts";
import { createPersister } from "../../src/services/persist.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { nextOffsetsOf } from "../helpers/write-batch.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const cfg = testPostgresConfig();

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
    ["a timestamp past year 9999", event({ timestamp: YEAR_10000 })],
  ] as const)
    it(`refuses ${what} with UnstorableError, stores nothing of the batch and keeps working`, async () => {
      const batch = batchOf([event(), bad, event()]);
      const failure = await store.writer.write(batch).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(UnstorableError);
      expect(await stored()).toBe(0);
      expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(new Map());
      expect(await store.writer.write(batchOf([event()], 3))).toEqual({ inserted: 1, duplicates: 0 });
      expect(await store.reader.watermark()).toBe(1);
    });

  const persistRecords = async (events: LogEvent[]) => {
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
    return { records, letters };
  };

  it("lets the persister dead-letter the one record the server refuses, with its bytes, and store the rest", async () => {
    await refuseMessage("boom", "22023");
    try {
      const events = Array.from({ length: 7 }, (_, i) => event({ message: i === 4 ? "boom" : `fine ${i}` }));
      const { records, letters } = await persistRecords(events);
      expect(letters.map((l) => [l.reason, l.record.offset])).toEqual([["unstorable", "104"]]);
      expect(letters[0]?.error).toContain("refused by test");
      expect(letters[0]?.record.value).toEqual(records[4]?.value ?? null);
      expect(await stored()).toBe(6);
      expect(await store.reader.findById((events[4] as LogEvent).id)).toBeUndefined();
      expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(
        new Map([[2, "107"]]),
      );
    } finally {
      await allowAgain();
    }
  });

  it("dead-letters the one event of a packed record the server refuses, as its own encoding, and stores the rest", async () => {
    await refuseMessage("boom", "22023");
    try {
      const events = Array.from({ length: 7 }, (_, i) => event({ message: i === 2 ? "boom" : `fine ${i}` }));
      const pack = (offset: number, of: LogEvent[]): BusRecord => ({
        partition: 2,
        offset: String(offset),
        key: "api",
        value: new TextEncoder().encode(encodeRecord(of.map(encodeEvent))),
        timestamp: now,
        events: of.length,
      });
      const letters: DeadLetter[] = [];
      const persist = createPersister({
        writer: store.writer,
        subscriber: { deadLetter: async (l) => void letters.push(...l) },
        group: "g",
      });
      await persist({ topic: "logs", records: [pack(100, events.slice(0, 4)), pack(101, events.slice(4))] });
      expect(letters.map((l) => [l.reason, l.record.offset])).toEqual([["unstorable", "100"]]);
      expect(new TextDecoder().decode(letters[0]?.record.value ?? undefined)).toBe(
        encodeEvent(events[2] as LogEvent),
      );
      expect(await stored()).toBe(6);
      expect(await store.reader.findById((events[2] as LogEvent).id)).toBeUndefined();
      expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(
        new Map([[2, "102"]]),
      );
    } finally {
      await allowAgain();
    }
  });

  it("dead-letters a record from past year 9999 as invalid before it reaches the server", async () => {
    const events = Array.from({ length: 5 }, (_, i) => event({ timestamp: i === 2 ? YEAR_10000 : now - i }));
    const { letters } = await persistRecords(events);
    expect(letters.map((l) => [l.reason, l.record.offset])).toEqual([["invalid", "102"]]);
    expect(await stored()).toBe(4);
    expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(new Map([[2, "105"]]));
  });

  const count = async (table: string) =>
    Number((await store.sql<{ n: string }[]>`select count(*) as n from ${store.sql(table)}`)[0]?.n);

  /** A trigger that makes the server refuse one row inside the COPY, with the given SQLSTATE. */
  const refuseMessage = async (message: string, state: string) => {
    await store.sql.unsafe(`create function refuse_row() returns trigger language plpgsql as $$
      begin
        if new.message = '${message}' then raise exception 'refused by test' using errcode = '${state}'; end if;
        return new;
      end $$`);
    await store.sql.unsafe(
      "create trigger refuse_row before insert on log_events for each row execute function refuse_row()",
    );
  };
  const allowAgain = () => store.sql.unsafe("drop function refuse_row() cascade");

  for (const [where, at] of [
    ["midway through its data", 500],
    ["on its very last row", 7_999],
  ] as const)
    it(`rolls back the ids it claimed when the COPY is refused ${where}, so a retry stores everything once`, async () => {
      const events = Array.from({ length: 8_000 }, (_, i) =>
        event({ message: i === at ? "boom" : `row ${i} ${"filler ".repeat(20)}`, source: `s${i % 7}` }),
      );
      await refuseMessage("boom", "22023");
      const started = performance.now();
      const failure = await store.writer.write(batchOf(events)).catch((e: unknown) => e);
      // Reported as the server's refusal at once, not after the COPY timeout.
      expect(failure).toBeInstanceOf(UnstorableError);
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(await stored()).toBe(0);
      expect(await count("log_event_ids")).toBe(0);
      expect(await count("log_rollup_minute")).toBe(0);
      // Its range of seq is spent, not reused: no row holds it, and a tail over it finds nothing.
      expect(await store.reader.watermark()).toBe(8_000);
      expect(await store.reader.tail({ afterSeq: 0, levels: [], sources: [], limit: 10 })).toEqual([]);
      expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(new Map());

      await allowAgain();
      expect(await store.writer.write(batchOf(events))).toEqual({ inserted: 8_000, duplicates: 0 });
      expect(await store.writer.write(batchOf(events))).toEqual({ inserted: 0, duplicates: 8_000 });
      const [seq] = await store.sql<{ lo: string; hi: string; n: string }[]>`
        select min(seq) as lo, max(seq) as hi, count(distinct seq) as n from log_events`;
      expect([seq?.lo, seq?.hi, seq?.n].map(Number)).toEqual([8_001, 16_000, 8_000]);
      expect(await count("log_event_ids")).toBe(8_000);
      expect(await store.reader.watermark()).toBe(16_000);
      const [sums] = await store.sql<{ minute: string; hour: string; histogram: string }[]>`
        select (select sum(count) from log_rollup_minute) as minute, (select sum(count) from log_rollup_hour) as hour,
          (select sum(count) from log_rollup_minute_level) as histogram`;
      expect([sums?.minute, sums?.hour, sums?.histogram].map(Number)).toEqual([8_000, 8_000, 8_000]);
    });

  it("fails a COPY refused for a passing reason as retryable, on a connection that stays usable", async () => {
    const events = Array.from({ length: 3_000 }, (_, i) =>
      event({ message: i === 2_999 ? "boom" : `row ${i}` }),
    );
    await refuseMessage("boom", "P0001");
    const failure = await store.writer.write(batchOf(events)).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(UnstorableError);
    expect((failure as Error).name).not.toBe("CopyTimeoutError");
    expect(await count("log_event_ids")).toBe(0);
    await allowAgain();
    expect(await store.writer.write(batchOf(events))).toEqual({ inserted: 3_000, duplicates: 0 });
    // The failed attempt spent 1..3000; the retry's rows follow it.
    expect(await store.reader.watermark()).toBe(6_000);
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
      expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(new Map());
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
      expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(new Map([[0, "5"]]));
      expect(await store.writer.write(batchOf(big.slice(0, 100), 5))).toEqual({
        inserted: 100,
        duplicates: 0,
      });
    } finally {
      await hasty.writer.stop();
    }
  });

  it("fails the write as retryable without a statement on the closed connection; a retry stores it once", async () => {
    // The writer's pool, as the store makes it; while the batch takes its seq, the server ends the transaction's
    // session, as a shutdown does. The COPY that comes next must not run on that connection: postgres.js
    // would write to the closed socket from a timer, an uncaught error that ends the process.
    const app = `${schema}-w`;
    let pool: Sql | undefined;
    let terminate = true;
    const announce = announcer(store.sql);
    const writer = createWriter({
      pool: () => {
        pool ??= openPool(cfg.url, cfg, { schema, max: 2, applicationName: app });
        return pool;
      },
      discard: async (p) => {
        if (pool === p) pool = undefined;
        await p.end({ timeout: 0 });
      },
      ensurePartitions: store.partitions.ensure,
      copyTimeoutMs: 30_000,
      announce: async (xid, n) => {
        if (terminate) {
          terminate = false;
          await store.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${app}`;
          // Long enough for the client to see the session end.
          await Bun.sleep(300);
        }
        return announce(xid, n);
      },
      logger: silentLogger,
    });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => void uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    try {
      const events = Array.from({ length: 500 }, (_, i) => event({ message: `row ${i}` }));
      const failure = await writer.write(batchOf(events)).catch((e: unknown) => e);
      await Bun.sleep(100);
      expect(uncaught).toEqual([]);
      expect(failure).toBeInstanceOf(WriteConnectionClosedError);
      expect(await stored()).toBe(0);
      expect(await writer.write(batchOf(events))).toEqual({ inserted: 500, duplicates: 0 });
      expect(await stored()).toBe(500);
    } finally {
      process.off("uncaughtException", onUncaught);
      await writer.close();
      if (pool) await pool.end({ timeout: 0 });
    }
  });
});
