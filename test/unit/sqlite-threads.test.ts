// The embedded store writes and reads a database file on threads of their own: what write() promises holds
// across them, and reads give way to the rest.

import { Database } from "bun:sqlite";
import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore, type SqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { nextOffsetsOf } from "../helpers/write-batch.ts";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) {
    await s.writer.stop();
    await s.reader.stop();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const open = () => {
  const dir = mkdtempSync(join(tmpdir(), "logproc-write-thread-"));
  dirs.push(dir);
  const path = join(dir, "logproc.sqlite");
  const store = createSqliteStore(path);
  stores.push(store);
  return { store, path };
};

const event = (id: string, over: Partial<LogEvent> = {}): LogEvent => ({
  id,
  level: "INFO",
  message: `message ${id}`,
  source: "api",
  timestamp: Date.now(),
  metadata: { n: 1 },
  ...over,
});

const batch = (events: LogEvent[]) => ({
  group: "g",
  topic: "t",
  events: events.map((e, i) => ({ event: e, partition: 0, offset: String(i) })),
  nextOffsets: new Map([[0, String(events.length)]]),
});

describe("sqlite write thread", () => {
  it("has committed a batch when write() resolves: another connection reads it at once", async () => {
    const { store, path } = open();
    const metadata = JSON.parse('{"a":1,"__proto__":{"b":2}}') as Record<string, unknown>;
    expect(await store.writer.write(batch([event("a"), event("b", { metadata })]))).toEqual({
      inserted: 2,
      duplicates: 0,
    });
    const other = new Database(path, { readonly: true });
    try {
      const rows = other
        .query<{ id: string; metadata: string }, []>("SELECT id, metadata FROM log_events ORDER BY id")
        .all();
      expect(rows.map((r) => r.id)).toEqual(["a", "b"]);
      expect(rows[1]?.metadata).toBe('{"a":1,"__proto__":{"b":2}}');
    } finally {
      other.close();
    }
    expect(nextOffsetsOf(await store.writer.committedPositions("g", "t"))).toEqual(new Map([[0, "2"]]));
  });

  it("stores a batch written twice once", async () => {
    const { store } = open();
    const b = { ...batch([event("x"), event("y")]), transient: true as const };
    await store.writer.write(b);
    expect(await store.writer.write(b)).toEqual({ inserted: 0, duplicates: 2 });
  });

  it("rejects a write that fails on the thread, keeps none of it, and goes on writing", async () => {
    const { store, path } = open();
    const bad = event("bad", { message: 42 as unknown as string });
    const failed = await store.writer.write(batch([event("first"), bad])).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).name).toBe("TypeError");
    expect(await store.writer.write(batch([event("good")]))).toEqual({ inserted: 1, duplicates: 0 });
    const other = new Database(path, { readonly: true });
    try {
      const ids = other.query<{ id: string }, []>("SELECT id FROM log_events").all();
      expect(ids.map((r) => r.id)).toEqual(["good"]);
    } finally {
      other.close();
    }
    expect((await store.writer.health()).ok).toBe(true);
  });
});

describe("sqlite write thread, staged batches", () => {
  const count = (path: string, id: string): number => {
    const other = new Database(path, { readonly: true });
    try {
      return (
        other.query<{ n: number }, [string]>("SELECT count(*) AS n FROM log_events WHERE id = ?").get(id)
          ?.n ?? 0
      );
    } finally {
      other.close();
    }
  };

  it("commits a staged batch of the in-process bus right behind the write in flight", async () => {
    const { store, path } = open();
    const next = { ...batch([event("next")]), transient: true as const };
    const current = store.writer.write({ ...batch([event("current")]), transient: true });
    store.writer.stage?.(next);
    await current;
    // Stored before its own write() was even called: the thread had it already.
    for (let i = 0; i < 100 && count(path, "next") === 0; i++) await Bun.sleep(5);
    expect(count(path, "next")).toBe(1);
    expect(await store.writer.write(next)).toEqual({ inserted: 1, duplicates: 0 });
  });

  it("does not write ahead a batch that moves offsets", async () => {
    const { store, path } = open();
    const next = {
      ...batch([event("offsets")]),
      events: [{ event: event("offsets"), partition: 0, offset: "1" }],
      nextOffsets: new Map([[0, "2"]]),
    };
    const current = store.writer.write(batch([event("first")]));
    store.writer.stage?.(next);
    await current;
    await Bun.sleep(50);
    expect(count(path, "offsets")).toBe(0);
    await store.writer.write(next);
    expect(count(path, "offsets")).toBe(1);
  });
});

/** A live thread's name (its comm); "" once it has ended. */
const threadName = (tid: string): string => {
  try {
    return readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
};

/** The nice value of each live thread of this process by thread id (field 19 of /proc/<pid>/task/<tid>/stat). */
const niceValues = (): Map<string, number> => {
  const out = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    } catch {
      continue; // ended between the listing and the read (another test's worker)
    }
    out.set(tid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
  }
  return out;
};

describe("sqlite read thread", () => {
  it("runs at a lower priority than the thread that serves HTTP and the writes (Linux)", async () => {
    const before = niceValues();
    const { store } = open();
    await store.reader.watermark();
    const after = niceValues();
    // The store's two threads (the writer's and the reader's) are named "Worker"; threads a worker starts for
    // itself (its garbage collector's helpers) inherit its nice value, so only the workers are counted.
    const workers = [...after]
      .filter(([tid]) => !before.has(tid) && threadName(tid) === "Worker")
      .map(([, nice]) => nice)
      .sort();
    expect(workers).toEqual([0, 10]);
    // Nothing that ran before was lowered, the thread that serves HTTP among them.
    for (const [tid, nice] of before) if (after.has(tid)) expect([tid, after.get(tid)]).toEqual([tid, nice]);
    expect(after.get(String(process.pid))).toBe(0);
  });
});
