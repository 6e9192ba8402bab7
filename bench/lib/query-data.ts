// The query data set: N events over 7 days COPYed straight into the product schema of a dedicated database,
// then the id table, the three rollups and the watermark filled to match, as the consumer would have left them.

import postgres from "postgres";
import sql001 from "../../config/migrations/001_init.sql" with { type: "text" };
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

/** The product's indexes on log_events, exactly as the migration declares them. */
const INDEX_DDL = [...sql001.matchAll(/create index (log_events_\w+) on log_events[^;]*;/g)].map((m) => ({
  name: m[1] as string,
  ddl: m[0],
}));

export const queryData = async (db: string, rows: number): Promise<QueryData> => {
  if (await databaseExists(db)) {
    const sql = postgres(dbUrl(db), { max: 1, onnotice: () => {} });
    try {
      const [meta] = await sql<
        { rows: string; seed: number; data_end: Date; frequencies: Record<string, number> }[]
      >`
        select rows, seed, data_end, frequencies from bench.meta`.catch(() => []);
      if (meta && Number(meta.rows) === rows && meta.seed === SEED)
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
    // Indexes are built after the load (far faster than maintaining them row by row), from the same DDL.
    for (const i of INDEX_DDL) await sql.unsafe(`drop index if exists ${i.name}`);
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
    const b = phase("query: building indexes", INDEX_DDL.length, "indexes");
    for (const i of INDEX_DDL) {
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
