// The embedded store refuses what it cannot store instead of skipping it: only a repeated event id is
// ignored (as a duplicate); a row that breaks any other constraint fails the batch as UnstorableError, which
// the persister isolates and dead-letters. A skipped row would be an acknowledged event lost without a trace.

import { afterEach, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import { UnstorableError } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";

const event = (id: string, overrides: Partial<Record<keyof LogEvent, unknown>> = {}): LogEvent =>
  ({
    id,
    level: "INFO",
    message: `message ${id}`,
    source: "api",
    timestamp: Date.now(),
    metadata: null,
    ...overrides,
  }) as LogEvent;

const batch = (events: LogEvent[], from = 0) => ({
  group: "g",
  topic: "t",
  events: events.map((e, i) => ({ event: e, partition: 0, offset: String(from + i) })),
  nextOffsets: new Map([[0, String(from + events.length)]]),
});

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// In memory the writes run on this thread; in a file they run on the store's write thread.
const places = {
  "in memory": () => ":memory:",
  "in a file": () => {
    const dir = mkdtempSync(join(tmpdir(), "sqlite-refusals-"));
    dirs.push(dir);
    return join(dir, "logs.db");
  },
};

describe("sqlite store refusals", () => {
  for (const [where, path] of Object.entries(places)) {
    it(`${where}: a repeated id is a duplicate, not an error`, async () => {
      const store = createSqliteStore(path());
      expect(await store.writer.write(batch([event("a"), event("b")]))).toEqual({
        inserted: 2,
        duplicates: 0,
      });
      expect(await store.writer.write(batch([event("a"), event("c")], 2))).toEqual({
        inserted: 1,
        duplicates: 1,
      });
      await store.writer.stop();
      await store.reader.stop();
    });

    for (const [field, column] of [
      ["source", "source"],
      ["message", "message"],
      ["level", "level"],
      ["timestamp", "ts"],
    ] as const)
      it(`${where}: an event without ${field} fails its batch as UnstorableError and stores none of it`, async () => {
        const store = createSqliteStore(path());
        const refused = store.writer.write(batch([event("ok-1"), event("bad", { [field]: null })]));
        const error = await refused.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(UnstorableError);
        expect((error as Error).message).toContain(`log_events.${column}`);
        expect(await store.writer.write(batch([event("ok-2")], 5))).toEqual({ inserted: 1, duplicates: 0 });
        const ids = store.db.query<{ id: string }, []>("SELECT id FROM log_events ORDER BY id").all();
        expect(ids.map((r) => r.id)).toEqual(["ok-2"]);
        await store.writer.stop();
        await store.reader.stop();
      });
  }
});
