// Opening an embedded store made by an earlier release upgrades it in place and keeps every count and offset.

import { Database } from "bun:sqlite";
import { describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import { SQLITE_SCHEMA } from "../../src/adapters/store/sqlite-schema.ts";

const HOUR = 3_600_000;
const base = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

/** The rollups as releases before WITHOUT ROWID made them. */
const OLD_ROLLUPS = `
CREATE TABLE log_rollup_minute (
  minute INTEGER NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (minute, level, source)
);
CREATE TABLE log_rollup_minute_level (
  minute INTEGER NOT NULL, level TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (minute, level)
);
CREATE TABLE log_rollup_hour (
  hour INTEGER NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (hour, level, source)
);`;

describe("sqlite upgrade", () => {
  it("rebuilds rowid rollups WITHOUT ROWID with the same rows, and stats read them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "logproc-upgrade-"));
    try {
      const path = join(dir, "logproc.sqlite");
      const old = new Database(path, { create: true });
      old.exec(OLD_ROLLUPS);
      old.exec(SQLITE_SCHEMA);
      const rows: [number, string, string, number][] = [
        [base, "INFO", "api", 3],
        [base + 60_000, "ERROR", "api", 2],
        [base + HOUR, "INFO", "web", 4],
      ];
      for (const [minute, level, source, count] of rows) {
        old.run("INSERT INTO log_rollup_minute VALUES (?, ?, ?, ?)", [minute, level, source, count]);
        old.run("INSERT INTO log_rollup_minute_level VALUES (?, ?, ?)", [minute, level, count]);
        old.run("INSERT INTO log_rollup_hour VALUES (?, ?, ?, ?)", [
          Math.floor(minute / HOUR) * HOUR,
          level,
          source,
          count,
        ]);
      }
      old.close();

      const store = createSqliteStore(path);
      try {
        for (const table of ["log_rollup_minute", "log_rollup_minute_level", "log_rollup_hour"]) {
          const ddl = store.db
            .query<{ sql: string }, [string]>("SELECT sql FROM sqlite_master WHERE name = ?")
            .get(table);
          expect(ddl?.sql).toContain("WITHOUT ROWID");
          const sum = store.db.query<{ n: number }, []>(`SELECT sum(count) AS n FROM ${table}`).get();
          expect(sum?.n).toBe(9);
        }
        const stats = await store.reader.stats({
          start: base,
          end: base + 2 * HOUR - 1,
          bucketMs: HOUR,
          maxSources: 10,
        });
        expect(stats.totalLogs).toBe(9);
        expect({ ...stats.sourceCounts }).toEqual({ api: 5, web: 4 });
        expect({ ...stats.levelCounts }).toMatchObject({ INFO: 7, ERROR: 2 });
      } finally {
        await store.writer.stop();
        await store.reader.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the positions of a store made before append times were kept a column for them, keeping the offsets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "logproc-upgrade-"));
    try {
      const path = join(dir, "logproc.sqlite");
      const old = new Database(path, { create: true });
      old.exec(`CREATE TABLE consumer_offsets (
        grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset TEXT NOT NULL,
        PRIMARY KEY (grp, topic, partition)
      );`);
      old.exec(SQLITE_SCHEMA);
      old.run("INSERT INTO consumer_offsets VALUES ('g', 'logs', 0, '120')");
      old.close();

      const store = createSqliteStore(path);
      try {
        expect(await store.writer.committedPositions("g", "logs")).toEqual(new Map([[0, { next: "120" }]]));
        await store.writer.write({
          group: "g",
          topic: "logs",
          events: [],
          nextOffsets: new Map([[0, "130"]]),
          appendedMs: new Map([[0, 5_000]]),
        });
        expect(await store.writer.committedPositions("g", "logs")).toEqual(
          new Map([[0, { next: "130", appendedMs: 5_000 }]]),
        );
      } finally {
        await store.writer.stop();
        await store.reader.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
