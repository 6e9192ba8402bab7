// A batch whose COPY times out is handed over again and written in ever smaller parts, and is stored exactly once.

import { afterEach, beforeEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { BatchMerger } from "../../src/adapters/bus/kafka/batch-merger.ts";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { WriteTimeoutError } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { encodeEvent } from "../../src/domain/wire.ts";
import type { BusRecord } from "../../src/ports/log-bus.ts";
import { createPersister } from "../../src/services/persist.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { nextOffsetsOf } from "../helpers/write-batch.ts";

setDefaultTimeout(120_000);

const cfg = testPostgresConfig();

describe("postgres COPY timeout", () => {
  let schema: string;
  let store: PostgresStore;
  beforeEach(async () => {
    schema = uniqueName("t");
    // A COPY must end within a second; the trigger below makes any COPY of more than 8 rows take 3 s.
    store = createPostgresStore(cfg, { schema, applicationName: schema, copyTimeoutMs: 1000 });
    await store.writer.start();
    await store.reader.start();
    await store.sql.unsafe(`create function slow_when_big() returns trigger language plpgsql as $$
      begin
        if (select count(*) from new_rows) > 8 then perform pg_sleep(3); end if;
        return null;
      end $$`);
    await store.sql.unsafe(`create trigger slow_when_big after insert on log_events
      referencing new table as new_rows for each statement execute function slow_when_big()`);
  });
  afterEach(async () => {
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });

  it("retries a timed-out batch in halves until the parts fit, then stores every event once", async () => {
    const now = Date.now();
    const events: LogEvent[] = Array.from({ length: 40 }, (_, i) => ({
      id: `${schema}-${i}`,
      level: "INFO",
      message: `event ${i}`,
      source: "api",
      timestamp: now + i,
      metadata: null,
    }));
    const records: BusRecord[] = events.map((e, i) => ({
      partition: 3,
      offset: String(500 + i),
      key: e.source,
      value: new TextEncoder().encode(encodeEvent(e)),
      timestamp: now,
    }));
    const shrunk: number[] = [];
    const persist = createPersister({
      writer: store.writer,
      subscriber: { deadLetter: async () => {} },
      group: "g",
      observer: {
        consumed: () => {},
        stored: () => {},
        deadLettered: () => {},
        shrunk: (n) => void shrunk.push(n),
      },
    });
    const failures: unknown[] = [];
    const committed: Map<number, string>[] = [];
    // The Kafka subscriber's redelivery path: a failed batch is handed over again, as it was, after a delay.
    const merger = new BatchMerger({
      topic: "logs",
      maxBatch: 100,
      capacity: 200,
      lingerMs: 2,
      handler: persist,
      onStored: async (_, next) => void committed.push(next),
      retryDelay: () => 50,
      onFailure: (error) => void failures.push(error),
    });
    merger.submit(records);
    const deadline = Date.now() + 90_000;
    while (committed.length === 0 && Date.now() < deadline) await Bun.sleep(50);
    await merger.close();

    expect(committed).toEqual([new Map([[3, "540"]])]);
    // 40 timed out, then 20, then 10; parts of 5 fit.
    expect(shrunk).toEqual([20, 10, 5]);
    expect(failures).toHaveLength(3);
    for (const f of failures) expect(f).toBeInstanceOf(WriteTimeoutError);
    const [row] = await store.sql<{ n: string; ids: string; claims: string; rolled: string }[]>`
      select count(*) as n, count(distinct id) as ids, (select count(*) from log_event_ids) as claims,
        (select sum(count) from log_rollup_minute) as rolled from log_events`;
    expect([row?.n, row?.ids, row?.claims, row?.rolled].map(Number)).toEqual([40, 40, 40, 40]);
    expect(nextOffsetsOf(await store.writer.committedPositions("g", "logs"))).toEqual(new Map([[3, "540"]]));
    // The three timed-out attempts spent 40 + 20 + 10 seqs; the stored rows follow them.
    expect(await store.reader.watermark()).toBe(110);
  });
});
