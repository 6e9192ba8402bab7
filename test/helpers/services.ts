// Where the integration tests find the real services started by scripts/services.sh, and unique names per test.

import type { PostgresConfig } from "../../src/config/load.ts";

export const TEST_POSTGRES_URL =
  process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/logproc";
export const TEST_KAFKA_BROKERS = (process.env.TEST_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

let counter = 0;
/** A name no other test (or earlier run) uses: for topics, schemas, groups and key prefixes. */
export const uniqueName = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${process.pid.toString(36)}_${(counter++).toString(36)}`.toLowerCase();

/** The store configuration of the PostgreSQL suites: the test database, no TLS, a small pool. */
export const testPostgresConfig = (poolSize = 4): PostgresConfig => ({
  url: TEST_POSTGRES_URL,
  readUrl: TEST_POSTGRES_URL,
  username: undefined,
  password: undefined,
  ssl: "disable",
  sslCa: undefined,
  queryTimeoutMs: 10_000,
  poolSize,
});
