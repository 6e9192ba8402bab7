// PostgreSQL listings at a snapshot: totals of old snapshots, and history then live tail through the gateway under ingest.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Server } from "bun";
import { MemoryCache } from "../../src/adapters/cache/memory.ts";
import { createReader } from "../../src/adapters/store/postgres/reader.ts";
import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { loadConfig } from "../../src/config/load.ts";
import { decodeCursor } from "../../src/domain/cursor.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { LogQuery } from "../../src/domain/query.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { buildGatewayApp } from "../../src/roles/gateway.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { openSse } from "../helpers/sse.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const MINUTE = 60_000;
const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE;

/** A store in a schema of its own; `write` stores events in one batch, in the order given. */
const withStore = () => {
  const schema = uniqueName("t");
  const store = createPostgresStore(testPostgresConfig(), { schema });
  let offset = 0;
  let n = 0;
  const write = async (events: Partial<LogEvent>[]): Promise<LogEvent[]> => {
    const full = events.map(
      (e): LogEvent => ({
        id: `s${(n++).toString().padStart(6, "0")}`,
        level: "INFO",
        message: "m",
        source: "bulk",
        timestamp: T0,
        metadata: null,
        ...e,
      }),
    );
    await store.writer.write({
      group: "g",
      topic: "logs",
      events: full.map((event) => ({ event, partition: 0, offset: String(offset++) })),
      nextOffsets: new Map(),
    });
    return full;
  };
  beforeAll(async () => {
    await store.writer.start();
    await store.reader.start();
  });
  afterAll(async () => {
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
    await store.reader.stop();
  });
  return { store, write };
};

describe("postgres page totals at an old snapshot", () => {
  const { store, write } = withStore();
  const q = (over: Partial<LogQuery>): LogQuery => ({
    start: T0,
    end: T0 + 30 * MINUTE - 1,
    levels: [],
    sources: [],
    size: 5,
    page: 0,
    ...over,
  });

  it("stays exact while the rows stored since number fewer than newerScan, and is an estimate past that", async () => {
    const reader = createReader(store.sql, { newerScan: 100 });
    // Before the snapshot: 120 rows in the first ten minutes (40 of them "rare"), 30 in the second ten.
    await write(
      Array.from({ length: 120 }, (_, i) => ({ timestamp: T0 + i * 5000, source: i < 40 ? "rare" : "bulk" })),
    );
    await write(Array.from({ length: 30 }, (_, i) => ({ timestamp: T0 + 10 * MINUTE + i * 1000 })));
    const maxSeq = await reader.watermark();
    // After it: 60 rows, 20 of them "rare" in the first ten minutes and 40 in the second ten.
    await write(Array.from({ length: 20 }, (_, i) => ({ timestamp: T0 + i * 3000 + 1, source: "rare" })));
    await write(Array.from({ length: 40 }, (_, i) => ({ timestamp: T0 + 10 * MINUTE + i * 1000 + 1 })));
    const second = { start: T0 + 10 * MINUTE, end: T0 + 20 * MINUTE - 1 };

    const exact = async (over: Partial<LogQuery>) => {
      const p = await reader.page(q({ ...over, maxSeq }));
      return { total: p.total, exact: p.totalExact };
    };
    expect(await exact({})).toEqual({ total: 150, exact: true });
    expect(await exact({ sources: ["rare"] })).toEqual({ total: 40, exact: true });
    expect(await exact(second)).toEqual({ total: 30, exact: true });

    // 160 more rows, all in the second ten minutes: now more than newerScan rows came after the snapshot.
    await write(Array.from({ length: 160 }, (_, i) => ({ timestamp: T0 + 10 * MINUTE + i * 100 + 2 })));
    const all = await reader.page(q({ maxSeq, size: 200 }));
    expect(all.totalExact).toBe(false);
    expect(all.items).toHaveLength(150);
    expect(all.items.every((i) => i.seq <= maxSeq)).toBe(true);
    // Every newer row is in the window: the share seen (all of them) scaled to all 220 gives the count.
    expect(all.total).toBe(150);
    // None of the newer rows is "rare" after the first 20: the estimate is near, and flagged.
    const rare = await reader.page(q({ sources: ["rare"], maxSeq }));
    expect(rare.totalExact).toBe(false);
    expect(rare.total).toBeGreaterThanOrEqual(0);
    expect(rare.total).toBeLessThanOrEqual(60);
    // Without a snapshot the count is exact, whatever arrived.
    expect((await reader.page(q({}))).total).toBe(150 + 60 + 160);
  });
});

interface Listing {
  content: { id: string }[];
  totalElements: number;
  totalElementsExact: boolean;
  last: boolean;
  nextCursor: string;
}

describe("postgres history then live from one listing", () => {
  const { store, write } = withStore();
  let server: Server<undefined>;
  const base = `/gateway/api/query`;

  beforeAll(() => {
    const app = buildGatewayApp(
      loadConfig({}),
      {
        reader: store.reader,
        cache: new MemoryCache(),
        metrics: createMetrics(new Registry(), { defaults: false }),
        logger: silentLogger,
      },
      { tailPollMs: 20 },
    );
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 60,
      fetch: (req, srv) => app.fetch(req, { server: srv }),
    });
  });
  afterAll(async () => {
    await server.stop(true);
  });

  const get = async (query: Record<string, string>): Promise<Listing> => {
    const res = await fetch(`http://127.0.0.1:${server.port}${base}/logs?${new URLSearchParams(query)}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Listing;
  };

  const openTail = async (query: Record<string, string>, lastEventId: string) => {
    const qs = new URLSearchParams(query);
    return openSse(`http://127.0.0.1:${server.port}${base}/tail?${qs}`, { "Last-Event-ID": lastEventId });
  };

  it("pages the history at the listing's snapshot and tails exactly what arrived after it, while events arrive", async () => {
    const source = "hist";
    const t = Date.now() - 10 * MINUTE;
    const written: LogEvent[] = [];
    written.push(
      ...(await write(
        Array.from({ length: 40 }, (_, i) => ({
          source: i % 5 === 4 ? "other" : source,
          timestamp: t + i * 1000,
          message: `history ${i}`,
        })),
      )),
    );

    // Ingest goes on while the listing is paged: late events inside the part not yet listed, exact timestamp
    // ties, and new ones, for the listed source and another.
    let ingesting = true;
    let round = 0;
    const ingest = (async () => {
      while (ingesting) {
        const r = round++;
        written.push(
          ...(await write([
            { source, timestamp: t + 500 + (r % 30) * 1000, message: `late ${r}` },
            { source, timestamp: t + (r % 40) * 1000, message: `tie ${r}` },
            { source, timestamp: Date.now(), message: `new ${r}` },
            { source: "other", timestamp: t + 1500, message: `other ${r}` },
          ])),
        );
        await Bun.sleep(5);
      }
    })();

    const history: string[] = [];
    const totals: number[] = [];
    const first = await get({ source, size: "4" });
    try {
      let page = first;
      for (;;) {
        history.push(...page.content.map((e) => e.id));
        totals.push(page.totalElementsExact ? page.totalElements : -1);
        if (page.last) break;
        await Bun.sleep(20);
        page = await get({ source, size: "4", cursor: page.nextCursor });
      }
    } finally {
      ingesting = false;
      await ingest;
    }
    const snapshot = decodeCursor(first.nextCursor)?.seq ?? -1;
    expect(snapshot).toBeGreaterThan(0);
    // Every page of the listing answers the snapshot's exact total.
    expect(totals).toEqual(totals.map(() => history.length));
    written.push(...(await write([{ source, message: "after the ingest" }])));

    const tail = await openTail({ source }, first.nextCursor);
    try {
      const wanted = written.filter((e) => e.source === source).map((e) => e.id);
      const listed = new Set(history);
      const rest = wanted.filter((id) => !listed.has(id));
      const liveIds = () => tail.messages().map((m) => JSON.parse(m.data).id as string);
      const deadline = Date.now() + 10_000;
      while (liveIds().length < rest.length && Date.now() < deadline) await Bun.sleep(25);
      await Bun.sleep(100);
      const live = liveIds();

      // The listing holds exactly the events stored up to its snapshot, the tail exactly those after it.
      expect(new Set(history).size).toBe(history.length);
      for (const id of history) expect((await store.reader.findById(id))?.seq).toBeLessThanOrEqual(snapshot);
      const seqs = tail.messages().map((m) => decodeCursor(m.id ?? "")?.seq ?? -1);
      expect(seqs.every((s) => s > snapshot)).toBe(true);
      expect(seqs).toEqual(seqs.toSorted((a, b) => a - b));
      expect([...history, ...live].toSorted()).toEqual(wanted.toSorted());
      expect(round).toBeGreaterThan(3);
    } finally {
      await tail.close();
    }
  });
});
