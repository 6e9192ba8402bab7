// The PostgreSQL store: both store ports over postgres.js pools (writes on their own connection, reads on the replica URL).

import type { PostgresConfig } from "../../../config/load.ts";
import type { LogQuery } from "../../../domain/query.ts";
import { type Logger, silentLogger } from "../../../observability/logger.ts";
import type { Health } from "../../../ports/log-bus.ts";
import type { BatchWriter, LogReader, LogWriter } from "../../../ports/log-store.ts";
import { checkSchema, openPool, type Sql } from "./connect.ts";
import { readTimeout } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { createPartitions, DEFAULT_PARTITION_POLICY, type PartitionPolicy } from "./partitions.ts";
import { createReader } from "./reader.ts";
import { createSearch, DEFAULT_SEARCH_TUNING, type SearchTuning } from "./search.ts";
import { createStats } from "./stats.ts";
import { type Announce, positionsOf, readPositions } from "./write-steps.ts";
import { createWriter } from "./writer.ts";

export interface PostgresStoreOptions {
  /** Schema holding every table (default public); tests use one each. */
  schema?: string;
  logger?: Logger;
  /** Bound on one COPY; past it the write connection is destroyed and the write fails (retryable). */
  copyTimeoutMs?: number;
  healthTimeoutMs?: number;
  applicationName?: string;
  partitions?: Partial<PartitionPolicy>;
  search?: Partial<SearchTuning>;
}

const ping = async (sql: Sql, timeoutMs: number): Promise<Health> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<Health>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const asked = sql`select 1`.then(
    (): Health => ({ ok: true, detail: "postgres" }),
    (error: unknown): Health => ({
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
    }),
  );
  try {
    return await Promise.race([asked, expired]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Takes a range of seq for a transaction (write-steps.ts's Announce), outside the write transaction and on
 * another pool than the writer's two connections: the watermark row is locked for this statement only.
 * Records of transactions that ended without deleting theirs (rolled back, or their process died) go at the
 * same time.
 */
export const announcer =
  (sql: Sql): Announce =>
  async (xid, n) => {
    const [row] = await sql<{ lo: string }[]>`
      with ended as (
        delete from log_writes_in_flight where pg_visible_in_snapshot(xid, pg_current_snapshot())
      ), w as (
        update log_watermark set seq = seq + ${n} returning seq
      )
      insert into log_writes_in_flight (xid, lo) select ${xid}::xid8, seq - ${n} + 1 from w returning lo`;
    return Number(row?.lo);
  };

export const createPostgresStore = (cfg: PostgresConfig, opts: PostgresStoreOptions = {}) => {
  const schema = checkSchema(opts.schema ?? "public");
  const logger = opts.logger ?? silentLogger;
  const copyTimeoutMs = opts.copyTimeoutMs ?? 30_000;
  const healthTimeoutMs = opts.healthTimeoutMs ?? 2_000;
  const name = opts.applicationName ?? "logproc";
  const sql = openPool(cfg.url, cfg, { schema, max: cfg.poolSize, applicationName: name });
  // Reads have a pool of their own, whatever the URL: its statement timeout must not cut migrations short.
  const readSql = openPool(cfg.readUrl, cfg, {
    schema,
    max: cfg.poolSize,
    applicationName: `${name}-reader`,
    statementTimeoutMs: cfg.queryTimeoutMs,
  });
  const partitions = createPartitions(sql, { ...DEFAULT_PARTITION_POLICY, ...opts.partitions }, logger);
  const runMigrations = async (): Promise<void> => {
    const applied = await migrate(sql, schema);
    if (applied.length) logger.info("postgres migrations applied", { schema, versions: applied });
  };
  const announce = announcer(sql);
  /**
   * A writer of its own: two connections (the batch being written and the next one, staged), a pool that a
   * COPY not settling in time ends. The consumer's lanes each have one and write concurrently.
   */
  const lanes: { w: ReturnType<typeof createWriter>; takePool: () => Sql | undefined }[] = [];
  const newLane = () => {
    let writeSql: Sql | undefined;
    const w = createWriter({
      pool: () => {
        writeSql ??= openPool(cfg.url, cfg, { schema, max: 2, applicationName: `${name}-writer` });
        return writeSql;
      },
      discard: async (pool) => {
        if (writeSql === pool) writeSql = undefined;
        await pool.end({ timeout: 0 });
      },
      announce,
      ensurePartitions: partitions.ensure,
      copyTimeoutMs,
      logger,
    });
    const takePool = (): Sql | undefined => {
      const pool = writeSql;
      writeSql = undefined;
      return pool;
    };
    lanes.push({ w, takePool });
    return w;
  };
  const w = newLane();
  const r = createReader(readSql);
  const page = (q: LogQuery) => r.page(q);

  let writerUp = false;
  let readerUp = false;
  const endPools = async (): Promise<void> => {
    if (writerUp || readerUp) return;
    const pools = new Set<Sql>([sql, readSql]);
    for (const lane of lanes) {
      const pool = lane.takePool();
      if (pool) pools.add(pool);
    }
    await Promise.all([...pools].map((p) => p.end({ timeout: 5 })));
  };

  const writer: LogWriter & {
    dropPartitionsOlderThan(days: number): Promise<string[]>;
  } = {
    start: async () => {
      writerUp = true;
      await runMigrations();
      await partitions.ensure([]);
    },
    stop: async () => {
      writerUp = false;
      await Promise.all(lanes.map((lane) => lane.w.close()));
      await endPools();
    },
    write: (batch) => w.write(batch),
    prepare: (events) => w.prepare(events),
    stage: (batch) => w.stage(batch),
    lane: (): BatchWriter => newLane(),
    committedPositions: async (group, topic) => positionsOf(await readPositions(sql, group, topic)),
    health: () => ping(sql, healthTimeoutMs),
    retain: (days) => partitions.dropOlderThan(days),
    dropPartitionsOlderThan: (days) => partitions.dropOlderThan(days),
  };

  const search = createSearch(readSql, page, { ...DEFAULT_SEARCH_TUNING, ...opts.search });
  const stats = createStats(readSql);
  const bounded = readTimeout(cfg.queryTimeoutMs);
  const reader: LogReader = {
    start: async () => {
      readerUp = true;
    },
    stop: async () => {
      readerUp = false;
      await endPools();
    },
    page: (q) => bounded(page(q)),
    search: (q) => bounded(search(q)),
    stats: (q) => bounded(stats(q)),
    findById: (id) => bounded(r.findById(id)),
    tail: (q) => bounded(r.tail(q)),
    watermark: () => bounded(r.watermark()),
    health: () => ping(readSql, healthTimeoutMs),
  };

  return { writer, reader, migrate: runMigrations, partitions, sql };
};

export type PostgresStore = ReturnType<typeof createPostgresStore>;
