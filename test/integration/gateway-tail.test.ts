// The live tail over a real socket: events in arrival order with cursor ids, resumable with Last-Event-ID.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { decodeCursor } from "../../src/domain/cursor.ts";
import { openSse } from "../helpers/sse.ts";
import {
  BASE,
  createGatewayFixture,
  type EventSpec,
  eventually,
  type GatewayFixture,
  qs,
} from "./gateway-fixture.ts";

let f: GatewayFixture;
let server: Server<undefined>;

beforeAll(async () => {
  f = await createGatewayFixture({ tailPollMs: 20 });
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 60,
    fetch: (req, srv) => f.app.fetch(req, { server: srv }),
  });
});
afterAll(async () => {
  await server.stop(true);
  await f.close();
});

/** Opens a tail and collects its events until closed. */
const openTail = async (
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
  raw?: string,
) => {
  const search = raw ?? qs(query);
  const sse = await openSse(
    `http://127.0.0.1:${server.port}${BASE}/tail${search ? `?${search}` : ""}`,
    headers,
  );
  const { res, received } = sse;
  const messages = sse.messages;
  const tail = {
    res,
    received,
    messages,
    ids: () => messages().map((e) => JSON.parse(e.data).id as string),
    /** The id to resume from: the last one received (ready or message), as a browser keeps it. */
    lastEventId: () => received.filter((e) => e.id !== undefined).at(-1)?.id,
    waitForReady: () => eventually(async () => received.some((e) => e.event === "ready"), 5000),
    waitFor: (n: number, withinMs = 5000) => eventually(async () => messages().length >= n, withinMs),
    close: sse.close,
  };
  return tail;
};

const write = (...specs: EventSpec[]) => f.write(...specs);

describe("live tail", () => {
  test("opens an event stream that announces its start position", async () => {
    const tail = await openTail();
    try {
      expect(tail.res.status).toBe(200);
      expect(tail.res.headers.get("content-type")).toContain("text/event-stream");
      expect(await tail.waitForReady()).toBe(true);
      const ready = tail.received[0];
      expect(ready?.event).toBe("ready");
      expect(decodeCursor(ready?.id ?? "")?.seq).toBe(JSON.parse(ready?.data ?? "{}").after);
    } finally {
      await tail.close();
    }
  });

  test("delivers new events in arrival order, each with its cursor as SSE id, and nothing from before", async () => {
    await write({ id: "tail-old" });
    const tail = await openTail();
    try {
      await tail.waitForReady();
      // Arrival order, not event time: the second one is older in event time.
      await write({ id: "t1", timestamp: Date.now() });
      await write({ id: "t2", timestamp: Date.now() - 3_600_000 }, { id: "t3" });
      expect(await tail.waitFor(3)).toBe(true);
      expect(tail.ids()).toEqual(["t1", "t2", "t3"]);
      const seqs = tail.messages().map((e) => decodeCursor(e.id ?? "")?.seq ?? -1);
      expect(seqs).toEqual(seqs.toSorted((a, b) => a - b));
      expect(new Set(seqs).size).toBe(3);
      const first = JSON.parse(tail.messages()[0]?.data ?? "{}");
      expect(first).toMatchObject({
        id: "t1",
        level: "INFO",
        source: "svc-a",
        message: "a message",
        metadata: null,
      });
      expect(first.cursor).toBe(tail.messages()[0]?.id);
    } finally {
      await tail.close();
    }
  });

  test("resumes with Last-Event-ID: exactly the later events, including those written while away", async () => {
    const tail = await openTail();
    await tail.waitForReady();
    await write({ id: "r1" }, { id: "r2" }, { id: "r3" });
    expect(await tail.waitFor(3)).toBe(true);
    const afterR1 = tail.messages()[0]?.id ?? "";
    await tail.close();
    await write({ id: "r4" });
    const again = await openTail({}, { "Last-Event-ID": afterR1 });
    try {
      await write({ id: "r5" });
      expect(await again.waitFor(4)).toBe(true);
      await Bun.sleep(100);
      expect(again.ids()).toEqual(["r2", "r3", "r4", "r5"]);
    } finally {
      await again.close();
    }
  });

  test("a reconnect before any event resumes from the announced start: nothing written meanwhile is lost", async () => {
    const tail = await openTail();
    await tail.waitForReady();
    const start = tail.lastEventId() ?? "";
    await tail.close();
    await write({ id: "gap-1" }, { id: "gap-2" });
    const again = await openTail({}, { "Last-Event-ID": start });
    try {
      expect(await again.waitFor(2)).toBe(true);
      expect(again.ids()).toEqual(["gap-1", "gap-2"]);
    } finally {
      await again.close();
    }
  });

  test("cursor= works like Last-Event-ID for clients that cannot set headers", async () => {
    const tail = await openTail();
    await tail.waitForReady();
    const start = tail.lastEventId() ?? "";
    await tail.close();
    await write({ id: "q-1" });
    const again = await openTail({ cursor: start });
    try {
      expect(await again.waitFor(1)).toBe(true);
      expect(again.ids()).toEqual(["q-1"]);
    } finally {
      await again.close();
    }
  });

  test("filters by level (repeated or comma-separated), source and search text", async () => {
    const byLevel = await openTail({}, {}, "level=ERROR&level=fatal");
    const bySource = await openTail({ source: "billing" });
    const byText = await openTail({ query: '"card declined" -test' });
    const all = [byLevel, bySource, byText];
    try {
      for (const t of all) await t.waitForReady();
      await write(
        { id: "f1", level: "ERROR", source: "api", message: "boom" },
        { id: "f2", level: "INFO", source: "billing", message: "Card declined for order 7" },
        { id: "f3", level: "FATAL", source: "billing", message: "card declined in test mode" },
        { id: "f4", level: "INFO", source: "api", message: "fine" },
      );
      expect(await byLevel.waitFor(2)).toBe(true);
      expect(await bySource.waitFor(2)).toBe(true);
      expect(await byText.waitFor(1)).toBe(true);
      await write({ id: "f5", level: "WARN", source: "web", message: "marker" });
      await Bun.sleep(150);
      expect(byLevel.ids()).toEqual(["f1", "f3"]);
      expect(bySource.ids()).toEqual(["f2", "f3"]);
      expect(byText.ids()).toEqual(["f2"]);
    } finally {
      for (const t of all) await t.close();
    }
  });

  test("a text filter gets past a long run of non-matching events instead of rescanning it", async () => {
    const tail = await openTail({ query: "needle" });
    try {
      await tail.waitForReady();
      for (let i = 0; i < 12; i++)
        await write(...Array.from({ length: 5000 }, (_, j) => ({ message: `hay ${i * 5000 + j}` })));
      await write({ id: "needle-1", message: "the needle" });
      expect(await tail.waitFor(1, 15_000)).toBe(true);
      expect(tail.ids()).toEqual(["needle-1"]);
    } finally {
      await tail.close();
    }
  }, 30_000);
});

describe("history then live from one point", () => {
  test("a listing's nextCursor pages back over the history and tails forward from it, no gap, no duplicate", async () => {
    const source = "hist";
    const base = Date.now() - 60_000;
    await write(
      ...Array.from({ length: 7 }, (_, i) => ({ id: `h${i}`, source, timestamp: base + i * 1000 })),
    );
    const first = (await f.get(`logs?${qs({ source, size: 3 })}`)).body;
    // Arriving after the listing: one new, one late (older than events already listed).
    await write({ id: "live-new", source }, { id: "live-late", source, timestamp: base + 500 });

    const history: string[] = first.content.map((e: { id: string }) => e.id);
    let page = first;
    while (!page.last) {
      page = (await f.get(`logs?${qs({ source, size: 3, cursor: page.nextCursor })}`)).body;
      history.push(...page.content.map((e: { id: string }) => e.id));
    }
    const tail = await openTail({ source }, { "Last-Event-ID": first.nextCursor });
    try {
      // The listing may predate the newest writes by the watermark's reuse; whatever it left out, the tail has.
      const all = ["h0", "h1", "h2", "h3", "h4", "h5", "h6", "live-new", "live-late"];
      expect(await tail.waitFor(all.length - history.length)).toBe(true);
      await Bun.sleep(100);
      const live = tail.ids();
      expect([...history, ...live].toSorted()).toEqual(all.toSorted());
      expect(live.slice(-2)).toEqual(["live-new", "live-late"]);
    } finally {
      await tail.close();
    }
  });
});
