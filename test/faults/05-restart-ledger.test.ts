// Events acknowledged after a restart are stored: for every bus/store combination, ingest after each of a
// SIGTERM, a kill -9 and another SIGTERM, then count what the gateway finds (the loss hid after a restart).

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { Scenario } from "../helpers/faults-harness.ts";
import { killAll, LogprocProcess, waitUntil } from "../helpers/faults-process.ts";
import { freePorts, portEnv, tempDir } from "../helpers/proc.ts";
import { uniqueName } from "../helpers/services.ts";

setDefaultTimeout(300_000);

let scenario: Scenario | undefined;
afterEach(async () => {
  await killAll();
  await scenario?.cleanup();
  scenario = undefined;
});

const Q = "/gateway/api/query";

const startAll = async (env: Record<string, string>): Promise<LogprocProcess> => {
  const ports = freePorts();
  const p = new LogprocProcess("all", ports, ["--role", "all"], { ...portEnv(ports), ...env });
  await waitUntil(
    "logproc --role all healthy",
    async () =>
      (await fetch(`http://127.0.0.1:${ports.gateway}${Q}/health`)).ok &&
      (await fetch(`http://127.0.0.1:${ports.producer}/producer/api/logs/health`)).ok,
    90_000,
    200,
    () => p.tail(),
  );
  return p;
};

/** Ingests `n` single events with this source and ids; returns how many were answered 200. */
const ingest = async (p: LogprocProcess, source: string, n: number): Promise<number> => {
  let acked = 0;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${p.ports.producer}/producer/api/logs/ingest`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: `${source}-${i}`, level: "INFO", message: "after a restart", source }),
    });
    if (res.status === 200) acked++;
  }
  return acked;
};

const stored = async (p: LogprocProcess, source: string): Promise<number> => {
  const res = await fetch(`http://127.0.0.1:${p.ports.gateway}${Q}/logs?source=${source}&size=100`);
  return ((await res.json()) as { totalElements: number }).totalElements;
};

/** Three runs, each ingesting after its start; every run's events and every earlier run's are found. */
const ledger = async (env: Record<string, string>, tag: string) => {
  const plan: [string, number, "SIGTERM" | "SIGKILL"][] = [
    [`${tag}-r1`, 5, "SIGTERM"],
    [`${tag}-r2`, 5, "SIGKILL"],
    [`${tag}-r3`, 12, "SIGTERM"],
  ];
  const acked: Record<string, number> = {};
  for (const [source, n, sig] of plan) {
    const p = await startAll(env);
    acked[source] = await ingest(p, source, n);
    await waitUntil(
      `${source} stored`,
      async () => (await stored(p, source)) >= n,
      60_000,
      200,
      () => p.tail(),
    );
    if (sig === "SIGKILL") await p.kill9();
    else expect((await p.signal("SIGTERM", 30_000))?.code).toBe(0);
  }
  // A fourth run finds everything the three acknowledged, each exactly once.
  const last = await startAll(env);
  const found: Record<string, number> = {};
  for (const [source] of plan) found[source] = await stored(last, source);
  expect(acked).toEqual({ [`${tag}-r1`]: 5, [`${tag}-r2`]: 5, [`${tag}-r3`]: 12 });
  expect(found).toEqual(acked);
};

test("in-process bus + SQLite: events ingested after each restart are stored", async () => {
  await ledger({ DATA_DIR: tempDir("logproc-ledger-") }, uniqueName("sqlite"));
});

test("in-process bus + PostgreSQL: events ingested after each restart are stored", async () => {
  scenario = await Scenario.create("ledger_pg");
  await ledger({ POSTGRES_URL: scenario.url, DATA_DIR: tempDir("logproc-ledger-") }, uniqueName("pg"));
});

test("Kafka + PostgreSQL: events ingested after each restart are stored", async () => {
  scenario = await Scenario.create("ledger_kafka", 2);
  const ports = freePorts();
  const { POSTGRES_URL, KAFKA_BOOTSTRAP_SERVERS, KAFKA_TOPIC, KAFKA_PARTITIONS, KAFKA_CONSUMER_GROUP } =
    scenario.env(ports);
  await ledger(
    {
      POSTGRES_URL: POSTGRES_URL as string,
      KAFKA_BOOTSTRAP_SERVERS: KAFKA_BOOTSTRAP_SERVERS as string,
      KAFKA_TOPIC: KAFKA_TOPIC as string,
      KAFKA_PARTITIONS: KAFKA_PARTITIONS as string,
      KAFKA_CONSUMER_GROUP: KAFKA_CONSUMER_GROUP as string,
      DATA_DIR: tempDir("logproc-ledger-"),
    },
    uniqueName("kafka"),
  );
});
