// Connection pools of the PostgreSQL store: credentials, TLS mode and the schema search path from PostgresConfig.

import { readFileSync } from "node:fs";
import postgres from "postgres";
import type { PostgresConfig } from "../../../config/load.ts";

export type Sql = ReturnType<typeof postgres>;
/** Anything that runs queries: a pool, a reserved connection or a transaction. */
export type Queryable = postgres.ISql;
export type Tx = postgres.TransactionSql;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names are spliced into DDL and the search path: only plain lower-case identifiers are allowed. */
export const checkSchema = (schema: string): string => {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}": use [a-z_][a-z0-9_]*`);
  return schema;
};

export type SslOption = false | "require" | { rejectUnauthorized: true; ca?: string };

/** postgres.js `ssl` for our three modes; `false` leaves any sslmode in the URL in charge. */
export const sslOption = (cfg: Pick<PostgresConfig, "ssl" | "sslCa">): SslOption => {
  if (cfg.ssl === "disable") return false;
  if (cfg.ssl === "require") return "require";
  return cfg.sslCa
    ? { rejectUnauthorized: true, ca: readFileSync(cfg.sslCa, "utf8") }
    : { rejectUnauthorized: true };
};

export interface PoolOptions {
  schema: string;
  max: number;
  applicationName: string;
  /** Server-side bound on every statement of this pool (PostgreSQL cancels it with 57014). */
  statementTimeoutMs?: number;
}

export const openPool = (url: string, cfg: PostgresConfig, o: PoolOptions): Sql => {
  const ssl = sslOption(cfg);
  return postgres(url, {
    max: o.max,
    ...(cfg.username ? { username: cfg.username } : {}),
    ...(cfg.password ? { password: cfg.password } : {}),
    ...(ssl ? { ssl } : {}),
    connect_timeout: 10,
    idle_timeout: 60,
    // Our own notices ("relation already exists, skipping") are expected; never print them.
    onnotice: () => {},
    connection: {
      application_name: o.applicationName,
      search_path: checkSchema(o.schema),
      TimeZone: "UTC",
      // Reads are small and bounded, writes are COPY and DML (never parallel): starting workers only costs.
      // With them, stats over a day of rollups took twice as long on 2 cores.
      max_parallel_workers_per_gather: "0",
      ...(o.statementTimeoutMs ? { statement_timeout: o.statementTimeoutMs } : {}),
    },
  });
};
