// The "Logs" dashboard and its PostgreSQL datasource: every SQL query in it runs, as the read-only role the
// compose stack's init script creates, against a database logproc migrated and wrote events into.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { TEST_POSTGRES_URL, testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { REPO, readText } from "./roles.ts";

setDefaultTimeout(120_000);

interface Target {
  rawSql: string;
  format: string;
  datasource?: { uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  gridPos: { x: number; w: number };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  datasource?: { uid: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const readLogsDashboard = async (): Promise<Dashboard> =>
  JSON.parse(await readText("config/grafana/dashboards/logs.json")) as Dashboard;

const iso = (ms: number) => `'${new Date(ms).toISOString()}'`;
const quoted = (values: string[]) => values.map((v) => `'${v.replaceAll("'", "''")}'`).join(",");

/**
 * What Grafana's PostgreSQL datasource sends for a query: its macros expanded as it documents them, the
 * variables as quoted lists. Anything left starting with `$` is a macro this test does not know: it fails.
 */
const expand = (
  sql: string,
  range: { from: number; to: number },
  vars: { level: string[]; source: string[] | "all" },
): string => {
  const out = sql
    .replace(
      /\$__timeGroupAlias\((\w+),\s*\$__interval(?:,\s*0)?\)/g,
      (_, col) => `floor(extract(epoch from ${col})/60)*60 AS "time"`,
    )
    .replace(/\$__timeFilter\((\w+)\)/g, (_, col) => `${col} BETWEEN ${iso(range.from)} AND ${iso(range.to)}`)
    .replace(/\$__timeFrom\(\)/g, iso(range.from))
    .replace(/\$__timeTo\(\)/g, iso(range.to))
    .replace(/\$\{?level\}?/g, quoted(vars.level))
    .replace(/\$\{?source\}?/g, vars.source === "all" ? "'__all__'" : quoted(vars.source));
  if (out.includes("$")) throw new Error(`unexpanded macro in: ${out}`);
  return out;
};

const database = uniqueName("grafana_logs");
const reader = uniqueName("grafana_reader");
const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
const dbUrl = (user?: string) => {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${database}`;
  if (user) {
    url.username = user;
    url.password = "reader-pw";
  }
  return url.toString();
};
let store: PostgresStore;
let asReader: postgres.Sql;
const now = Date.now();
const range = { from: now - 3_600_000, to: now + 60_000 };

const event = (i: number, level: string, source: string): LogEvent => ({
  id: `grafana-${i}`,
  level: level as LogEvent["level"],
  message: `event ${i} from ${source}`,
  source,
  timestamp: now - 60_000 * (i + 1),
  metadata: { i },
});
const EVENTS = [
  event(0, "INFO", "api"),
  event(1, "ERROR", "api"),
  event(2, "WARN", "db"),
  event(3, "INFO", "db"),
  event(4, "DEBUG", "it's quoted"),
];

beforeAll(async () => {
  await admin.unsafe(`create database "${database}"`);
  // The compose stack's init script, as the postgres image runs it on a new data directory.
  const url = new URL(TEST_POSTGRES_URL);
  const init = Bun.spawnSync(["sh", join(REPO, "config/postgres/initdb/10-grafana-reader.sh")], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      PGHOST: url.hostname,
      PGPORT: url.port || "5432",
      POSTGRES_USER: decodeURIComponent(url.username) || "postgres",
      POSTGRES_DB: database,
      GRAFANA_DB_USER: reader,
      GRAFANA_DB_PASSWORD: "reader-pw",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (init.exitCode !== 0) throw new Error(`init script failed: ${init.stderr.toString()}`);
  // Then logproc's consumer migrates the schema (after the script: the default privileges must cover it).
  store = createPostgresStore(
    { ...testPostgresConfig(2), url: dbUrl(), readUrl: dbUrl() },
    { schema: "public" },
  );
  await store.writer.start();
  await store.writer.write({
    group: "g",
    topic: "logs",
    events: EVENTS.map((e, i) => ({ event: e, partition: 0, offset: String(i) })),
    nextOffsets: new Map([[0, String(EVENTS.length)]]),
  });
  asReader = postgres(dbUrl(reader), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await asReader?.end();
  await store?.writer.stop();
  await store?.reader.stop();
  await admin.unsafe(`drop database if exists "${database}" with (force)`);
  await admin.unsafe(`drop role if exists "${reader}"`);
  await admin.end();
});

const panelQueries = (d: Dashboard) =>
  d.panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ panel: p.title, sql: t.rawSql, format: t.format })),
  );

describe("the Logs dashboard", () => {
  test("is provisioned with its PostgreSQL datasource under the uid every panel and variable uses", async () => {
    const ds = Bun.YAML.parse(await readText("config/grafana/provisioning/datasources/postgres.yml")) as {
      datasources: { uid: string; type: string; url: string; user: string; jsonData: { database: string } }[];
    };
    const [pg] = ds.datasources;
    expect(pg?.type).toBe("grafana-postgresql-datasource");
    expect(pg?.url).toBe("postgres:5432");
    expect(pg?.user).toBe("$GRAFANA_DB_USER");
    const d = await readLogsDashboard();
    expect(d.title).toBe("Logs");
    for (const p of d.panels) {
      expect(p.datasource?.uid).toBe(pg?.uid ?? "");
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe(pg?.uid ?? "");
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
    const source = d.templating.list.find((v) => v.name === "source");
    expect(source?.datasource?.uid).toBe(pg?.uid ?? "");
  });

  test("has a logs panel, a volume panel and level/source variables that every query filters on", async () => {
    const d = await readLogsDashboard();
    expect(d.panels.some((p) => p.type === "logs")).toBe(true);
    expect(d.panels.some((p) => p.type === "timeseries" && /volume/i.test(p.title))).toBe(true);
    const level = d.templating.list.find((v) => v.name === "level");
    expect(level).toMatchObject({ type: "custom", multi: true, includeAll: true });
    expect(level?.query.split(",")).toEqual(LEVELS);
    expect(d.templating.list.find((v) => v.name === "source")).toMatchObject({
      multi: true,
      includeAll: true,
    });
    for (const q of panelQueries(d)) {
      expect(q.sql).toContain("$level");
      expect(q.sql).toContain("$source");
    }
  });

  test("the source variable's query lists the sources written, as the read-only role", async () => {
    const source = (await readLogsDashboard()).templating.list.find((v) => v.name === "source");
    const sql = expand(source?.query ?? "", range, { level: LEVELS, source: "all" });
    const rows = await asReader.unsafe<{ source: string }[]>(sql);
    expect(rows.map((r) => r.source)).toEqual(["api", "db", "it's quoted"]);
  });

  test("every panel query runs as the read-only role and returns the events written", async () => {
    const queries = panelQueries(await readLogsDashboard());
    expect(queries.length).toBeGreaterThanOrEqual(3);
    for (const q of queries) {
      const all = await asReader.unsafe<Record<string, unknown>[]>(
        expand(q.sql, range, { level: LEVELS, source: "all" }),
      );
      expect({ panel: q.panel, rows: all.length > 0 }).toEqual({ panel: q.panel, rows: true });
      const some = await asReader.unsafe<Record<string, unknown>[]>(
        expand(q.sql, range, { level: ["INFO", "ERROR"], source: ["api"] }),
      );
      const json = JSON.stringify(some);
      expect(json).not.toContain('"db"');
      expect(json).not.toContain("WARN");
    }
  });

  test("the logs panel returns time, message first among the strings, level and metadata, newest first", async () => {
    const [logs] = panelQueries(await readLogsDashboard()).filter((q) => q.panel === "Events");
    const rows = await asReader.unsafe<Record<string, unknown>[]>(
      expand(logs?.sql ?? "", range, { level: LEVELS, source: ["it's quoted", "api"] }),
    );
    expect(rows.map((r) => r.id)).toEqual(["grafana-0", "grafana-1", "grafana-4"]);
    expect(Object.keys(rows[0] ?? {}).slice(0, 3)).toEqual(["time", "message", "level"]);
    expect(rows[0]).toMatchObject({ message: "event 0 from api", level: "INFO", metadata: '{"i":0}' });
  });

  test("the volume panel counts every event once per level", async () => {
    const [volume] = panelQueries(await readLogsDashboard()).filter((q) => /volume/i.test(q.panel));
    const rows = await asReader.unsafe<{ metric: string; value: string }[]>(
      expand(volume?.sql ?? "", range, { level: LEVELS, source: "all" }),
    );
    const byLevel = new Map<string, number>();
    for (const r of rows) byLevel.set(r.metric, (byLevel.get(r.metric) ?? 0) + Number(r.value));
    expect(Object.fromEntries(byLevel)).toEqual({ DEBUG: 1, ERROR: 1, INFO: 2, WARN: 1 });
  });

  test("the role Grafana uses can read but not write", async () => {
    await expect(asReader`delete from log_events`).rejects.toThrow();
    await expect(asReader`insert into log_watermark (one, seq) values (true, 1)`).rejects.toThrow();
  });
});
