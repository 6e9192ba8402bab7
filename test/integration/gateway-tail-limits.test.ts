// Live tails bounded and shared: slots per client and in total, one poller per filter, catch-up in pages, clamped resumes.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Server } from "bun";
import { decodeCursor, encodeCursor } from "../../src/domain/cursor.ts";
import { startCursor } from "../../src/domain/page-shape.ts";
import { openSse } from "../helpers/sse.ts";
import {
  BASE,
  createGatewayFixture,
  eventually,
  type FixtureOptions,
  type GatewayFixture,
  qs,
} from "./gateway-fixture.ts";
import { recordingReader, type TailRead } from "./tail-reads.ts";

setDefaultTimeout(60_000);

/** A gateway over a real SQLite store on a real socket, its tail() calls recorded. */
const withGateway = (opts: FixtureOptions) => {
  const ctx = {} as { f: GatewayFixture; server: Server<undefined>; reads: TailRead[] };
  beforeAll(async () => {
    ctx.f = await createGatewayFixture({
      ...opts,
      reader: (r) => {
        const rec = recordingReader(r);
        ctx.reads = rec.reads;
        return rec.reader;
      },
    });
    ctx.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 60,
      fetch: (req, srv) => ctx.f.app.fetch(req, { server: srv }),
    });
  });
  afterAll(async () => {
    await ctx.server.stop(true);
    await ctx.f.close();
  });
  const url = (query = "") => `http://127.0.0.1:${ctx.server.port}${BASE}/tail${query ? `?${query}` : ""}`;
  const open = async (query = "", headers: Record<string, string> = {}) => {
    const sse = await openSse(url(query), headers);
    expect(sse.res.status).toBe(200);
    const ready = await eventually(async () => sse.received.some((e) => e.event === "ready"), 5000);
    expect(ready).toBe(true);
    return {
      ...sse,
      after: (): number => JSON.parse(sse.received[0]?.data ?? "{}").after,
      ids: () => sse.messages().map((e) => JSON.parse(e.data).id as string),
    };
  };
  /** A tail request expected to be refused: its status, headers and JSON body. */
  const refused = async (headers: Record<string, string> = {}) => {
    const res = await fetch(url(), { headers });
    const body = (await res.json()) as { error: string; message: string };
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body };
  };
  return { ctx, open, refused };
};

describe("tail slots", () => {
  const { ctx, open, refused } = withGateway({
    env: { MAX_TAIL_STREAMS: "5", MAX_TAIL_STREAMS_PER_CLIENT: "2", QUERY_API_KEYS: "ka,kb,kc" },
    tailPollMs: 20,
  });
  const key = (k: string) => ({ authorization: `Bearer ${k}` });

  test("a client past its own bound gets 429 JSON with Retry-After; other clients still get theirs", async () => {
    const mine = [await open("", key("ka")), await open("", key("ka"))];
    try {
      const third = await refused(key("ka"));
      expect(third.status).toBe(429);
      expect(Number(third.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(third.body).toMatchObject({ error: "rate_limited", requestId: expect.any(String) });
      expect(third.body.message).toContain("MAX_TAIL_STREAMS_PER_CLIENT=2");
      const other = await open("", key("kb"));
      await other.close();
    } finally {
      for (const t of mine) await t.close();
    }
  });

  test("past the total bound every client gets 429 until streams close, and closing frees the slots", async () => {
    const held = [
      await open("", key("ka")),
      await open("", key("ka")),
      await open("", key("kb")),
      await open("", key("kb")),
      await open("", key("kc")),
    ];
    const over = await refused(key("kc"));
    expect(over.status).toBe(429);
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(over.body.message).toContain("MAX_TAIL_STREAMS=5");
    expect(await ctx.f.counter("rate_limited_total", { scope: "tail_total" })).toBeGreaterThanOrEqual(1);
    for (const t of held) await t.close();
    // The server sees each close on its next write or wait; every slot comes back.
    expect(await eventually(async () => (await ctx.f.counter("tail_clients")) === 0, 5000)).toBe(true);
    const again = [await open("", key("kc")), await open("", key("kc")), await open("", key("ka"))];
    for (const t of again) await t.close();
  });
});

describe("shared pollers", () => {
  const POLL_MS = 50;
  const { ctx, open } = withGateway({ tailPollMs: POLL_MS, env: { MAX_TAIL_STREAMS_PER_CLIENT: "100" } });

  test("streams with one filter share one store read per interval, and each gets every event", async () => {
    const errors = await Promise.all(Array.from({ length: 15 }, () => open(qs({ level: "ERROR" }))));
    const billing = await Promise.all(Array.from({ length: 15 }, () => open(qs({ source: "billing" }))));
    try {
      const from = Date.now();
      const before = ctx.reads.length;
      // Events arrive all along: every interval has something new to read.
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        ids.push(`both-${i}`);
        await ctx.f.write({ id: `both-${i}`, level: "ERROR", source: "billing" });
        await Bun.sleep(POLL_MS / 2);
      }
      for (const t of [...errors, ...billing])
        expect(await eventually(async () => t.messages().length >= ids.length, 5000)).toBe(true);
      const elapsed = Date.now() - from;
      const reads = ctx.reads.slice(before);
      // One read per interval per filter, not one per stream: 15 streams polling alone read 15 times as often.
      const intervals = Math.ceil(elapsed / POLL_MS) + 2;
      const errorReads = reads.filter((r) => r.levels.join() === "ERROR").length;
      const billingReads = reads.filter((r) => r.sources.join() === "billing").length;
      expect(errorReads).toBeLessThanOrEqual(intervals);
      expect(billingReads).toBeLessThanOrEqual(intervals);
      expect(errorReads).toBeGreaterThanOrEqual(1);
      expect(await ctx.f.counter("tail_pollers")).toBe(2);
      for (const t of [...errors, ...billing]) expect(t.ids()).toEqual(ids);
    } finally {
      for (const t of [...errors, ...billing]) await t.close();
    }
    // A poller with no stream left stops.
    expect(await eventually(async () => (await ctx.f.counter("tail_pollers")) === 0, 5000)).toBe(true);
  });
});

describe("a stream that is behind", () => {
  const { ctx, open } = withGateway({ tailPollMs: 20, tailPauseMs: 5 });

  test("catches up in bounded pages, in order, without duplicates, then joins the live stream", async () => {
    const start = await ctx.f.store.reader.watermark();
    const live = await open();
    const history = Array.from({ length: 2600 }, (_, i) => ({ id: `h${i}`, message: `history ${i}` }));
    for (let i = 0; i < history.length; i += 650) await ctx.f.write(...history.slice(i, i + 650));
    const before = ctx.reads.length;
    const behind = await open("", { "Last-Event-ID": startCursor(start) });
    try {
      expect(behind.after()).toBe(start);
      // Written while it catches up: it must get these too, once, after the history.
      const more = Array.from({ length: 50 }, (_, i) => ({ id: `m${i}` }));
      for (const e of more) await ctx.f.write(e);
      const want = [...history.map((e) => e.id), ...more.map((e) => e.id)];
      expect(await eventually(async () => behind.messages().length >= want.length, 20_000)).toBe(true);
      await ctx.f.write({ id: "after-catch-up" });
      expect(await eventually(async () => behind.messages().length > want.length, 5000)).toBe(true);
      await Bun.sleep(100);
      expect(behind.ids()).toEqual([...want, "after-catch-up"]);
      const seqs = behind.messages().map((e) => decodeCursor(e.id ?? "")?.seq ?? -1);
      expect(seqs).toEqual(seqs.toSorted((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(live.ids()).toEqual([...want, "after-catch-up"]);
      // Every read was a bounded page: at most 500 events over at most 10,000 arrival seqs.
      const reads = ctx.reads.slice(before);
      expect(reads.length).toBeGreaterThanOrEqual(Math.ceil(2600 / 500));
      for (const r of reads) {
        expect(r.limit).toBeLessThanOrEqual(500);
        expect(r.untilSeq).toBeDefined();
        expect((r.untilSeq ?? Number.POSITIVE_INFINITY) - r.afterSeq).toBeLessThanOrEqual(10_000);
      }
    } finally {
      await behind.close();
      await live.close();
    }
  });
});

describe("forged positions", () => {
  const { ctx, open } = withGateway({ tailPollMs: 20, tailPauseMs: 5 });

  test("a Last-Event-ID past the watermark starts at the watermark and still gets new events", async () => {
    await ctx.f.write({ id: "x0" });
    const w = await ctx.f.store.reader.watermark();
    const huge = encodeCursor({ ts: Date.now(), id: "forged", seq: Number.MAX_SAFE_INTEGER });
    const tail = await open("", { "Last-Event-ID": huge });
    try {
      expect(tail.after()).toBe(w);
      await ctx.f.write({ id: "x1" });
      expect(await eventually(async () => tail.messages().length >= 1, 5000)).toBe(true);
      expect(tail.ids()).toEqual(["x1"]);
    } finally {
      await tail.close();
    }
  });

  test("a Last-Event-ID older than the retained data starts at the oldest retained row", async () => {
    const w0 = await ctx.f.store.reader.watermark();
    await ctx.f.write(...Array.from({ length: 30 }, (_, i) => ({ id: `old${i}` })));
    const kept = await ctx.f.write(...Array.from({ length: 5 }, (_, i) => ({ id: `kept${i}` })));
    // Retention in miniature: the embedded store's rows up to the first kept one are gone.
    const firstKept = ctx.f.store.db
      .query<{ seq: number }, [string]>("SELECT seq FROM log_events WHERE id = ?")
      .get(kept[0]?.id ?? "");
    ctx.f.store.db.run("DELETE FROM log_events WHERE seq < ?", [firstKept?.seq ?? 0]);
    for (const ancient of [0, -1_000_000]) {
      const before = ctx.reads.length;
      const tail = await open("", { "Last-Event-ID": encodeCursor({ ts: 0, id: "forged", seq: ancient }) });
      try {
        expect(tail.after()).toBe((firstKept?.seq ?? 0) - 1);
        expect(await eventually(async () => tail.messages().length >= 5, 5000)).toBe(true);
        await Bun.sleep(60);
        expect(tail.ids()).toEqual(kept.map((e) => e.id));
        // Besides the one probe for the oldest row, nothing read from the forged position.
        const fromForged = ctx.reads.slice(before).filter((r) => r.afterSeq < w0);
        expect(fromForged.map((r) => r.limit)).toEqual([1]);
      } finally {
        await tail.close();
      }
    }
  });
});
