// Versioned schema migrations, embedded in the program and applied once under an advisory lock.

import sql001 from "../../../../config/migrations/001_init.sql" with { type: "text" };
import sql002 from "../../../../config/migrations/002_rollup_hours.sql" with { type: "text" };
import sql003 from "../../../../config/migrations/003_writes_in_flight.sql" with { type: "text" };
import sql004 from "../../../../config/migrations/004_level_index_without_info.sql" with { type: "text" };
import sql005 from "../../../../config/migrations/005_offset_append_times.sql" with { type: "text" };
import sql006 from "../../../../config/migrations/006_metadata_json.sql" with { type: "text" };
import { checkSchema, type Sql } from "./connect.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "001_init", sql: sql001 },
  { version: 2, name: "002_rollup_hours", sql: sql002 },
  { version: 3, name: "003_writes_in_flight", sql: sql003 },
  { version: 4, name: "004_level_index_without_info", sql: sql004 },
  { version: 5, name: "005_offset_append_times", sql: sql005 },
  { version: 6, name: "006_metadata_json", sql: sql006 },
];

/**
 * Applies the missing migrations in one transaction. Consumers that start together queue on a
 * transaction-scoped advisory lock keyed by the schema; the later ones find nothing left to do.
 * Returns the versions applied by this call.
 */
export const migrate = async (sql: Sql, schema: string): Promise<number[]> => {
  checkSchema(schema);
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended(${`logproc:migrate:${schema}`}, 0))`;
    await tx.unsafe(`create schema if not exists "${schema}"`);
    await tx`create table if not exists schema_migrations (
      version int primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`;
    const rows = await tx<{ version: number }[]>`select version from schema_migrations`;
    const applied = new Set(rows.map((r) => r.version));
    const done: number[] = [];
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`;
      done.push(m.version);
    }
    return done;
  });
};
