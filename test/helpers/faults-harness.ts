// Fault-test scenarios: a topic, consumer group and PostgreSQL database of the test's own, and events to fill them.

import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { dlqTopicOf, ensureTopics } from "../../src/adapters/bus/kafka/topics.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { produceEvents, produceRaw, streamEvents } from "./faults-events.ts";
import { killAll, LogprocProcess, waitUntil } from "./faults-process.ts";
import { freePorts, type Ports, portEnv } from "./proc.ts";
import { TEST_KAFKA_BROKERS, TEST_POSTGRES_URL, uniqueName } from "./services.ts";

const kafkaClient = () =>
  new Kafka({ clientId: "logproc-faults", brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING });

const adminUrl = (db: string): string => {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${db}`;
  return url.toString();
};

const withAdmin = async <T>(run: (sql: postgres.Sql) => Promise<T>): Promise<T> => {
  const sql = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
};

export interface Counts {
  rows: number;
  ids: number;
}

export class Scenario {
  readonly url: string;
  /** The test's own connection to its database (reconnects by itself after an outage). */
  readonly sql: postgres.Sql;
  private readonly kafka = kafkaClient();

  private constructor(
    readonly topic: string,
    readonly group: string,
    readonly database: string,
    readonly partitions: number,
  ) {
    this.url = adminUrl(database);
    this.sql = postgres(this.url, { max: 2, onnotice: () => {}, connect_timeout: 5, idle_timeout: 30 });
  }

  /** A fresh database and topic (with its dead-letter topic, created like the product does). */
  static async create(name: string, partitions = 6): Promise<Scenario> {
    const s = new Scenario(
      uniqueName(`f_${name}`),
      uniqueName(`g_${name}`),
      uniqueName(`faults_${name}`),
      partitions,
    );
    await withAdmin((sql) => sql.unsafe(`create database "${s.database}"`));
    const admin = s.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, { topic: s.topic, partitions, replicationFactor: 1 });
    } finally {
      await admin.disconnect();
    }
    return s;
  }

  /** The environment of a split role on this scenario's topic, group and database. */
  env(ports: Ports, extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...portEnv(ports),
      POSTGRES_URL: this.url,
      KAFKA_BOOTSTRAP_SERVERS: TEST_KAFKA_BROKERS.join(","),
      KAFKA_TOPIC: this.topic,
      KAFKA_PARTITIONS: String(this.partitions),
      KAFKA_CONSUMER_GROUP: this.group,
      ...extra,
    };
  }

  start(role: "producer" | "consumer" | "gateway", extra: Record<string, string> = {}, args: string[] = []) {
    const ports = freePorts();
    return new LogprocProcess(role, ports, ["--role", role, ...args], this.env(ports, extra));
  }

  /** Waits for a consumer's health to say UP (joined the group, store reachable). */
  async consumerUp(p: LogprocProcess, timeoutMs = 90_000): Promise<void> {
    await waitUntil(
      `${p.name} healthy`,
      async () => (await fetch(`http://127.0.0.1:${p.ports.consumer}/actuator/health`)).status === 200,
      timeoutMs,
      250,
      () => p.tail(),
    );
  }

  async counts(): Promise<Counts> {
    const [r] = await this.sql<{ rows: number; ids: number }[]>`
      select count(*)::int as rows, count(distinct id)::int as ids from log_events`;
    return { rows: r?.rows ?? 0, ids: r?.ids ?? 0 };
  }

  /** Stored rows, 0 while the consumer has not created the table yet. */
  async rows(): Promise<number> {
    try {
      const [r] = await this.sql<{ n: number }[]>`select count(*)::int as n from log_events`;
      return r?.n ?? 0;
    } catch {
      return 0;
    }
  }

  /** How many of these ids are stored. */
  async storedOf(ids: string[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < ids.length; i += 10_000) {
      const chunk = this.sql.array(ids.slice(i, i + 10_000));
      const [r] = await this.sql<{ n: number }[]>`
        select count(*)::int as n from log_events where id = any(${chunk}::text[])`;
      n += r?.n ?? 0;
    }
    return n;
  }

  /** Each event of makeEvents(n) is stored once: every seq 0..n-1 appears, none twice. */
  async seqCoverage(): Promise<{ seqs: number; min: number; max: number }> {
    // Metadata is json since migration 006 (jsonb in rows stored before it).
    const [r] = await this.sql<{ seqs: number; min: number; max: number }[]>`
      select count(distinct seq)::int as seqs, min(seq)::int as min, max(seq)::int as max
      from (select (coalesce(metadata_json, metadata::json)->>'seq')::int as seq from log_events) m`;
    return { seqs: r?.seqs ?? 0, min: r?.min ?? -1, max: r?.max ?? -1 };
  }

  /** Waits until the store has handled the whole topic (its offsets at the head) and the count holds still. */
  async drained(timeoutMs = 180_000, context?: () => string): Promise<Counts> {
    await waitUntil(
      "the store's offsets to reach the head of the topic",
      () => this.caughtUp(),
      timeoutMs,
      500,
      context,
    );
    const first = await this.counts();
    await Bun.sleep(2000);
    const second = await this.counts();
    if (second.rows !== first.rows)
      throw new Error(`rows still growing after the head was reached: ${first.rows} → ${second.rows}`);
    return second;
  }

  /** Next offset per partition at the head of the topic. */
  async topicEnds(topic = this.topic): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
  }

  /** The store's offsets of `group` have reached the head of every partition: all the topic was handled. */
  async caughtUp(group = this.group, schema = "public"): Promise<boolean> {
    const ends = await this.topicEnds();
    const rows = await this.sql<{ partition: number; next_offset: string }[]>`
      select partition, next_offset from ${this.sql(schema)}.consumer_offsets
      where consumer_group = ${group} and topic = ${this.topic}`;
    const stored = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
    return [...ends].every(([p, end]) => (stored.get(p) ?? 0n) >= end);
  }

  /** Publishes events in the wire format straight to the topic (keyed by source, like the producer). */
  produce(events: LogEvent[], opts: { chunk?: number; concurrency?: number } = {}): Promise<void> {
    return produceEvents(this.kafka, this.topic, events, opts);
  }

  /** A steady flow of events (seq from 0 up) into the topic until stop(), which says how many were acked. */
  stream(prefix: string, perTick = 500, everyMs = 250): { stop(): Promise<number> } {
    return streamEvents(this.kafka, this.topic, prefix, perTick, everyMs);
  }

  /** Raw messages to one partition, in order; returns the offsets they got. */
  produceRaw(partition: number, values: (string | Buffer)[]): Promise<string[]> {
    return produceRaw(this.kafka, this.topic, partition, values);
  }
  /**
   * Deletes the topic and its dead-letter topic and creates them again, empty, as an operator or a wiped
   * broker would: the new partitions count offsets from 0 again. Kafka deletes a topic in the background, so
   * creating it is retried until the old one is gone.
   */
  async recreateTopic(timeoutMs = 60_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [this.topic, dlqTopicOf(this.topic)], timeout: 10_000 });
      await waitUntil(
        `topic ${this.topic} deleted and created again`,
        async () => {
          await ensureTopics(admin, { topic: this.topic, partitions: this.partitions, replicationFactor: 1 });
          const ends = await this.topicEnds();
          return ends.size === this.partitions && [...ends.values()].every((end) => end === 0n);
        },
        timeoutMs,
        500,
      );
    } finally {
      await admin.disconnect();
    }
  }

  /** Kills what still runs, drops the database and the topics. */
  async cleanup(): Promise<void> {
    await killAll();
    await this.sql.end({ timeout: 5 }).catch(() => {});
    await withAdmin((sql) => sql.unsafe(`drop database if exists "${this.database}" with (force)`)).catch(
      (error: unknown) => console.warn(`could not drop ${this.database}: ${String(error)}`),
    );
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const existing = new Set(await admin.listTopics());
      const topics = [this.topic, dlqTopicOf(this.topic)].filter((t) => existing.has(t));
      if (topics.length) await admin.deleteTopics({ topics, timeout: 10_000 });
    } catch (error) {
      console.warn(`could not delete topic ${this.topic}: ${String(error)}`);
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
