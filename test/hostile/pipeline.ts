// Starts logproc for the hostile tests: split roles on real Kafka + PostgreSQL + Redis, or the embedded mode.
//
// Each start isolates itself: a database created for it and dropped after, a topic and consumer group of
// its own, a temporary data directory. The processes run `bun src/main.ts` (the source under test).

import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { BUN, freePorts, type Ports, portEnv, ROOT, tempDir } from "../helpers/proc.ts";
import { TEST_KAFKA_BROKERS, TEST_POSTGRES_URL, TEST_REDIS_URL, uniqueName } from "../helpers/services.ts";
import type { Endpoints } from "./run.ts";

export interface Pipeline extends Endpoints {
  mode: "split" | "embedded";
  /** Ids of every event in the store, whoever wrote them. */
  storedIds(): Promise<string[]>;
  /** Messages in the dead-letter topic (split mode; the embedded bus counts them in its metric only). */
  dlqDepth(): Promise<number>;
  /** What the processes wrote to stderr so far (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

interface Child {
  name: string;
  proc: ReturnType<typeof Bun.spawn>;
  output: string[];
}

const MAX_LOG_CHARS = 200_000;

const spawnRole = (name: string, args: string[], env: Record<string, string>): Child => {
  const proc = Bun.spawn([BUN, join(ROOT, "src/main.ts"), ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  const child: Child = { name, proc, output: [] };
  let size = 0;
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      if (size > MAX_LOG_CHARS) continue;
      const text = decoder.decode(chunk);
      size += text.length;
      child.output.push(text);
    }
  })();
  return child;
};

const waitUp = async (url: string, child: Child, withinMs = 60_000): Promise<void> => {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (child.proc.exitCode !== null)
      throw new Error(`${child.name} exited with ${child.proc.exitCode}:\n${child.output.join("")}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`${child.name} did not become healthy at ${url}:\n${child.output.join("")}`);
};

const stopChildren = async (children: Child[]): Promise<void> => {
  for (const c of children) c.proc.kill("SIGTERM");
  await Promise.all(
    children.map(async (c) => {
      const exited = await Promise.race([
        c.proc.exited.then(() => true),
        Bun.sleep(20_000).then(() => false),
      ]);
      if (!exited) {
        c.proc.kill(9);
        await c.proc.exited;
      }
    }),
  );
};

const kafkaAdmin = () =>
  new Kafka({ clientId: "logproc-hostile", brokers: TEST_KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();

const dbUrl = (name: string): string => {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

/**
 * The query matrix opens and cuts hundreds of live tails from one address, eight at a time. A tail's slot is
 * freed when the gateway sees the disconnect, which lags on a loaded machine, so the per-client bound (20,
 * tested on its own in test/security/gateway-limits.test.ts) would refuse some of them with 429.
 */
const SUITE_ENV = { MAX_TAIL_STREAMS_PER_CLIENT: "1000" };

export const startSplit = async (extraEnv: Record<string, string> = {}): Promise<Pipeline> => {
  const database = uniqueName("hostile");
  const topic = uniqueName("hostile");
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${database}"`);
  const ports: Ports = freePorts();
  const env = {
    ...portEnv(ports),
    POSTGRES_URL: dbUrl(database),
    KAFKA_BOOTSTRAP_SERVERS: TEST_KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "3",
    KAFKA_CONSUMER_GROUP: uniqueName("hostile_group"),
    REDIS_URL: TEST_REDIS_URL,
    ...SUITE_ENV,
    ...extraEnv,
  };
  const children: Child[] = [];
  const store = postgres(dbUrl(database), { max: 2, onnotice: () => {} });
  const stop = async () => {
    await stopChildren(children);
    await store.end({ timeout: 5 });
    await admin.unsafe(`drop database if exists "${database}" with (force)`).catch(() => {});
    await admin.end({ timeout: 5 });
    const kafka = kafkaAdmin();
    await kafka.connect();
    try {
      const existing = new Set(await kafka.listTopics());
      const mine = [topic, dlqTopicOf(topic)].filter((t) => existing.has(t));
      if (mine.length) await kafka.deleteTopics({ topics: mine, timeout: 10_000 });
    } finally {
      await kafka.disconnect();
    }
  };
  try {
    // The consumer migrates the schema and creates the topics first; the others then find them ready.
    children.push(spawnRole("consumer", ["--role", "consumer"], env));
    await waitUp(`http://127.0.0.1:${ports.consumer}/actuator/health`, children[0] as Child);
    children.push(spawnRole("gateway", ["--role", "gateway"], env));
    children.push(spawnRole("producer", ["--role", "producer"], env));
    await waitUp(`http://127.0.0.1:${ports.gateway}/gateway/api/query/health`, children[1] as Child);
    await waitUp(`http://127.0.0.1:${ports.producer}/producer/api/logs/health`, children[2] as Child);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    mode: "split",
    ports,
    storedIds: async () => (await store<{ id: string }[]>`select id from log_events`).map((r) => r.id),
    dlqDepth: async () => {
      const kafka = kafkaAdmin();
      await kafka.connect();
      try {
        if (!(await kafka.listTopics()).includes(dlqTopicOf(topic))) return 0;
        const offsets = await kafka.fetchTopicOffsets(dlqTopicOf(topic));
        return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      } finally {
        await kafka.disconnect();
      }
    },
    logs: () => children.map((c) => `--- ${c.name}\n${c.output.join("")}`).join("\n"),
    stop,
  };
};

export const startEmbedded = async (extraEnv: Record<string, string> = {}): Promise<Pipeline> => {
  const dataDir = tempDir("logproc-hostile-");
  const ports = freePorts();
  const child = spawnRole("all", [], { ...portEnv(ports), DATA_DIR: dataDir, ...SUITE_ENV, ...extraEnv });
  const stop = async () => {
    await stopChildren([child]);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUp(`http://127.0.0.1:${ports.gateway}/gateway/api/query/health`, child);
    await waitUp(`http://127.0.0.1:${ports.producer}/producer/api/logs/health`, child);
    await waitUp(`http://127.0.0.1:${ports.consumer}/actuator/health`, child);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    mode: "embedded",
    ports,
    storedIds: async () => {
      const db = new Database(join(dataDir, "logproc.sqlite"), { readonly: true });
      try {
        return db
          .query<{ id: string }, []>("select id from log_events")
          .all()
          .map((r) => r.id);
      } finally {
        db.close();
      }
    },
    dlqDepth: async () => 0,
    logs: () => child.output.join(""),
    stop,
  };
};

/** The sum of every sample of a counter in a Prometheus text exposition (0 when it has none). */
export const counterTotal = (exposition: string, name: string): number =>
  exposition
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((n, line) => n + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
