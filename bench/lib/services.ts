// The local services (scripts/services.sh) and helpers over them: databases, migrations, topics.

import { Kafka, logLevel } from "kafkajs";
import "../../src/adapters/bus/kafka/zstd.ts"; // the zstd codec: the producer compresses record batches with it
import postgres from "postgres";
import { migrate } from "../../src/adapters/store/postgres/migrate.ts";

export const PG_BASE = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432";
export const KAFKA_BROKERS = (process.env.BENCH_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

const DAY_MS = 86_400_000;

export const dbUrl = (db: string): string => `${PG_BASE}/${db}`;

/** The PostgreSQL store's configuration for a benchmark's own database (two connections, no TLS). */
export const storeConfig = (url: string) => ({
  url,
  readUrl: url,
  username: undefined,
  password: undefined,
  ssl: "disable" as const,
  sslCa: undefined,
  queryTimeoutMs: 30_000,
  poolSize: 2,
});

/** A short unique suffix for topics, groups and databases of one run. */
export const runId = (): string => `${Date.now().toString(36)}${process.pid.toString(36)}`;

export const admin = () => postgres(dbUrl("postgres"), { max: 1, onnotice: () => {} });

export const createDatabase = async (name: string): Promise<void> => {
  const sql = admin();
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
    await sql.unsafe(`create database "${name}"`);
  } finally {
    await sql.end();
  }
};

export const dropDatabase = async (name: string): Promise<void> => {
  const sql = admin();
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await sql.end();
  }
};

export const databaseExists = async (name: string): Promise<boolean> => {
  const sql = admin();
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    return rows.length > 0;
  } finally {
    await sql.end();
  }
};

/** The product's own migrations and daily partitions for the given event times (same DDL as the consumer makes). */
export const migrateProductSchema = async (db: string, times: number[] = []): Promise<void> => {
  const sql = postgres(dbUrl(db), {
    max: 2,
    onnotice: () => {},
    connection: { search_path: "public", TimeZone: "UTC" },
  });
  try {
    await migrate(sql, "public");
    // Daily partitions named as the store names them (log_events_pYYYYMMDD), with the parent's indexes.
    const days = new Set(times.map((t) => Math.floor(t / DAY_MS)));
    const lo = Math.min(...days);
    const hi = Math.max(...days);
    for (let d = lo; d <= hi; d++) {
      const from = new Date(d * DAY_MS).toISOString();
      const to = new Date((d + 1) * DAY_MS).toISOString();
      const name = `log_events_p${from.slice(0, 10).replaceAll("-", "")}`;
      await sql.unsafe(
        `create table if not exists "${name}" partition of log_events for values from ('${from}') to ('${to}')`,
      );
    }
  } finally {
    await sql.end();
  }
};

export const kafka = () =>
  new Kafka({ clientId: "logproc-bench", brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });

/**
 * Creates the topic and returns once every partition has a leader. Creating several topics at once, the
 * broker may answer the leader wait with "does not host this topic-partition" although the topic exists:
 * then the leaders are polled from the metadata instead.
 */
export const createTopic = async (topic: string, partitions = 6): Promise<void> => {
  const a = kafka().admin();
  await a.connect();
  try {
    try {
      await a.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      return;
    } catch (error) {
      // A busy broker may answer the leader wait with UNKNOWN_TOPIC_OR_PARTITION while its metadata catches up.
      const listed = Date.now() + 10_000;
      while (!(await a.listTopics().catch(() => [] as string[])).includes(topic)) {
        if (Date.now() > listed) throw error;
        await Bun.sleep(200);
      }
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      const led = await a
        .fetchTopicMetadata({ topics: [topic] })
        .then((m) => m.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0)
        .catch(() => 0);
      if (led === partitions) return;
      if (Date.now() > deadline)
        throw new Error(`topic ${topic}: ${led} of ${partitions} partitions led after 30 s`);
      await Bun.sleep(200);
    }
  } finally {
    await a.disconnect();
  }
};

export const deleteTopics = async (topics: string[]): Promise<void> => {
  const a = kafka().admin();
  await a.connect();
  try {
    const existing = new Set(await a.listTopics());
    // The product creates <topic>.dlq beside each topic it uses.
    const gone = topics.flatMap((t) => [t, `${t}.dlq`]).filter((t) => existing.has(t));
    if (gone.length) await a.deleteTopics({ topics: gone, timeout: 30_000 });
  } catch {
    // Best effort: a topic left behind costs disk, not correctness.
  } finally {
    await a.disconnect();
  }
};

/** Counts the events a topic holds as it grows: a packed record counts what its events header says. */
export interface TopicEventCounter {
  /** Events read so far. */
  readonly count: number;
  /** The events in the topic up to its end as of now (waits until everything up to there was read). */
  settled(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

/** A reader of the whole topic from its start, under a group of its own; stop() when done. */
export const topicEventCounter = async (topic: string): Promise<TopicEventCounter> => {
  const k = kafka();
  const consumer = k.consumer({ groupId: `bench-count-${runId()}-${topic}`, maxWaitTimeInMs: 50 });
  const read = new Map<number, bigint>();
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const header = m.headers?.events;
        const n = header === undefined || Array.isArray(header) ? 1 : Number(header.toString());
        count += Number.isInteger(n) && n > 0 ? n : 1;
      }
      read.set(batch.partition, BigInt(batch.highWatermark) > 0n ? BigInt(batch.lastOffset()) + 1n : 0n);
    },
  });
  return {
    get count() {
      return count;
    },
    async settled(timeoutMs = 120_000) {
      const a = k.admin();
      await a.connect();
      const ends = await a.fetchTopicOffsets(topic).finally(() => a.disconnect());
      const until = Date.now() + timeoutMs;
      while (!ends.every((e) => BigInt(e.high) === 0n || (read.get(e.partition) ?? 0n) >= BigInt(e.high))) {
        if (Date.now() > until) throw new Error(`${topic}: not read to its end within ${timeoutMs} ms`);
        await Bun.sleep(20);
      }
      return count;
    },
    stop: () => consumer.disconnect(),
  };
};

/** The events a topic holds now, read once from its start (not while measuring: reading costs CPU). */
export const topicEvents = async (topic: string): Promise<number> => {
  const counter = await topicEventCounter(topic);
  try {
    return await counter.settled();
  } finally {
    await counter.stop();
  }
};
