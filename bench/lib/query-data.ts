// The query data set: N events over 7 days COPYed straight into the product schema of a dedicated database,
// then the id table, the three rollups and the watermark filled to match, as the consumer would have left them.

import postgres from "postgres";
import { MIGRATIONS } from "../../src/adapters/store/postgres/migrate.ts";
import { generate, WORDS } from "./data.ts";
import { ROW_COLUMNS, rowLine } from "./fill.ts";
import { note, phase } from "./progress.ts";
import { createDatabase, databaseExists, dbUrl, migrateProductSchema } from "./services.ts";

const DAY = 86_400_000;
const SEED = 31;

export interface QueryData {
  db: string;
  rows: number;
  /** Epoch ms of the newest event. */
  end: number;
  reused: boolean;
  loadSeconds?: number;
  /** Measured frequencies of the search words (share of rows). */
  frequencies: Record<string, number>;
}

export const queryData = async (db: string, rows: number): Promise<QueryData> => {
  if (await databaseExists(db)) {
    const sql = postgres(dbUrl(db), { max: 1, onnotice: () => {} });
    try {
      const [meta] = await sql<
        { rows: string; seed: number; data_end: Date; frequencies: Record<string, number>; schema: number }[]
      >`
        select rows, seed, data_end, frequencies, (select max(version) from schema_migrations) as schema
        from bench.meta`.catch(() => []);
      // Data loaded under an older schema is loaded again: its indexes are not the product's.
      if (meta && Number(meta.rows) === rows && meta.seed === SEED && meta.schema === MIGRATIONS.length)
        return { db, rows, end: meta.data_end.getTime(), reused: true, frequencies: meta.frequencies };
    } finally {
      await sql.end();
    }
  }
  const started = performance.now();
  const end = Date.now();
  const start = end - 7 * DAY;
  await createDatabase(db);
  await migrateProductSchema(db, [start, end]);
  const sql = postgres(dbUrl(db), {
    max: 1,
    onnotice: () => {},
    connection: { TimeZone: "UTC", maintenance_work_mem: "512MB" } as Record<string, string>,
  });
  try {
    // Indexes are built after the load (far faster than maintaining them row by row), as the migrations left
    // them (a partitioned index's definition says ON ONLY, which would leave the partitions without one).
    const indexes = (
      await sql<{ name: string; ddl: string }[]>`
        select indexname as name, indexdef as ddl from pg_indexes
        where schemaname = 'public' and tablename = 'log_events'`
    ).map((i) => ({ name: i.name, ddl: i.ddl.replace(" ON ONLY ", " ON ") }));
    for (const i of indexes) await sql.unsafe(`drop index ${i.name}`);
    const p = phase(`query: loading ${rows.toLocaleString("en-US")} events`, rows, "events");
    const sink = await sql.unsafe(`copy log_events (${ROW_COLUMNS}) from stdin`).writable();
    const createdAt = new Date(end).toISOString();
    const hits = { rare: 0, common: 0, all3: 0 };
    let chunk = "";
    let n = 0;
    await new Promise<void>((resolve, reject) => {
      sink.once("error", reject);
      sink.once("finish", () => resolve());
      const it = generate({ count: rows, start, end, seed: SEED });
      const pump = (): void => {
        for (;;) {
          const next = it.next();
          if (next.done) {
            if (chunk) sink.write(chunk);
            sink.end();
            p.done();
            return;
          }
          const e = next.value;
          n++;
          const words = new Set(e.message.split(" "));
          if (words.has(WORDS.rare)) hits.rare++;
          if (words.has(WORDS.common)) {
            hits.common++;
            if (words.has(WORDS.second) && words.has(WORDS.third)) hits.all3++;
          }
          chunk += rowLine(e, n, createdAt);
          if (chunk.length > 256 * 1024) {
            const ok = sink.write(chunk);
            chunk = "";
            p.set(n);
            if (!ok) {
              sink.once("drain", pump);
              return;
            }
          }
        }
      };
      pump();
    });
    note("query: filling ids, rollups and watermark; building indexes");
    await sql`insert into log_event_ids (id, ts) select id, ts from log_events`;
    // In time order, as the consumer leaves them (it adds each minute's rows as that minute's events arrive);
    // a hash aggregate's order would scatter one minute's rows over many pages.
    await sql`insert into log_rollup_minute (minute, level, source, count)
      select date_trunc('minute', ts, 'UTC'), level, source, count(*) from log_events group by 1, 2, 3 order by 1, 2, 3`;
    await sql`insert into log_rollup_hour (hour, level, source, count)
      select date_trunc('hour', minute, 'UTC'), level, source, sum(count) from log_rollup_minute group by 1, 2, 3
      order by 1, 2, 3`;
    await sql`insert into log_rollup_minute_level (minute, level, count)
      select minute, level, sum(count) from log_rollup_minute group by 1, 2 order by 1, 2`;
    await sql`update log_watermark set seq = ${rows}`;
    const b = phase("query: building indexes", indexes.length, "indexes");
    for (const i of indexes) {
      await sql.unsafe(i.ddl);
      b.tick();
    }
    b.done();
    await sql`vacuum analyze`;
    const frequencies = { rare: hits.rare / rows, common: hits.common / rows, threeWords: hits.all3 / rows };
    await sql`create schema bench`;
    await sql`create table bench.meta (rows bigint, seed int, data_end timestamptz, frequencies jsonb, loaded_at timestamptz default now())`;
    await sql`insert into bench.meta (rows, seed, data_end, frequencies) values (${rows}, ${SEED}, ${new Date(end)}, ${sql.json(frequencies)})`;
    return { db, rows, end, reused: false, loadSeconds: (performance.now() - started) / 1000, frequencies };
  } finally {
    await sql.end();
  }
};
