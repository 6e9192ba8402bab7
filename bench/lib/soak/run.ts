// One soak run: start the roles (embedded or split on the private services), drive traffic through restarts
// and outages, resend what never got a 2xx, wait until everything is stored, then verify against the ledger.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import postgres from "postgres";
import { waitUntil } from "../../../test/helpers/faults-process.ts";
import { type ChaosTally, runChaos, schedule, seeded } from "./chaos.ts";
import { postgresReader, type StoreReader, sqliteReader, type Verdict, verify } from "./check.ts";
import { Ledger, type LedgerCounts } from "./ledger.ts";
import { PrivateServices, type Service } from "./services.ts";
import { Topology } from "./topology.ts";
import { settle, startTraffic } from "./traffic.ts";

export interface SoakOptions {
  mode: "embedded" | "split";
  durationMs: number;
  restarts: number;
  /** Split mode only: one outage per entry. */
  outages: Service[];
  seed: number;
  clients?: number;
  pauseMs?: number;
  maxBatch?: number;
  /** At most this many acknowledged ids are asked of the gateway one by one (every id is checked in the store). */
  byIdSample?: number;
  outageMs?: [number, number];
  /** Extra environment of every role (e.g. KAFKA_SESSION_TIMEOUT_MS). */
  env?: Record<string, string>;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface SoakReport {
  mode: "embedded" | "split";
  seed: number;
  durationS: number;
  counts: LedgerCounts;
  /** Durable events still without a 2xx after the final resends (0 unless the system stayed down). */
  pending: number;
  chaos: ChaosTally;
  verdict: Verdict;
  uncleanStops: string[];
  queries: { asked: number; ok: number };
  /** Seconds spent in each phase: services and roles up, traffic and faults, resends, draining, verifying. */
  phasesS: Record<string, number>;
}

const PARTITIONS = 3;

/** Split mode: the consumer's stored offsets have reached the head of every partition of the topic. */
const caughtUp = async (kafka: Kafka, url: string, topic: string, group: string): Promise<boolean> => {
  const admin = kafka.admin();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic);
    const rows = await sql<{ partition: number; next_offset: string }[]>`
      select partition, next_offset::text from consumer_offsets where consumer_group = ${group} and topic = ${topic}`;
    const stored = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
    return ends.every((e) => (stored.get(e.partition) ?? 0n) >= BigInt(e.high));
  } finally {
    await admin.disconnect().catch(() => {});
    await sql.end({ timeout: 2 });
  }
};

/** Light gateway reads all along (by id, stats), so Redis outages and gateway restarts meet real queries. */
const readLoop = (port: () => number, ledger: Ledger, random: () => number) => {
  const tally = { asked: 0, ok: 0 };
  let stopped = false;
  const run = (async () => {
    for (let i = 0; !stopped; i++) {
      const id = ledger.sampleAcked(random);
      const path = i % 10 === 0 || !id ? "/stats" : `/logs/${id}`;
      tally.asked++;
      const res = await fetch(`http://127.0.0.1:${port()}/gateway/api/query${path}`, {
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      await res?.arrayBuffer().catch(() => {});
      if (res?.status === 200) tally.ok++;
      await Bun.sleep(300);
    }
  })();
  return {
    tally,
    stop: () => {
      stopped = true;
      return run;
    },
  };
};

export const runSoak = async (o: SoakOptions, shared?: PrivateServices): Promise<SoakReport> => {
  const started = Date.now();
  const random = seeded(o.seed);
  const tag = `${o.mode.slice(0, 3)}${Date.now().toString(36)}${process.pid.toString(36)}`;
  const dataDir = mkdtempSync(join(tmpdir(), "logproc-soak-"));
  const split = o.mode === "split";
  const services = split ? (shared ?? new PrivateServices(tag)) : undefined;
  const topic = `soak-${tag}`;
  const group = `soak-g-${tag}`;
  let store: StoreReader | undefined;
  let topology: Topology | undefined;
  const phasesS: Record<string, number> = {};
  let mark = Date.now();
  const log = o.log ?? ((line: string) => process.stderr.write(`[soak ${o.mode}] ${line}\n`));
  const phase = (name: string) => {
    phasesS[name] = (Date.now() - mark) / 1000;
    log(`${name}: ${phasesS[name]} s`);
    mark = Date.now();
  };
  try {
    if (services && !shared) await services.up();
    const url = services ? await services.createDatabase(`soak_${tag}`) : undefined;
    const env: Record<string, string> = services
      ? {
          POSTGRES_URL: url ?? "",
          KAFKA_BOOTSTRAP_SERVERS: services.kafkaBrokers,
          KAFKA_TOPIC: topic,
          KAFKA_PARTITIONS: String(PARTITIONS),
          KAFKA_CONSUMER_GROUP: group,
          REDIS_HOST: "127.0.0.1",
          REDIS_PORT: String(services.redisPort),
          DATA_DIR: dataDir,
          ...o.env,
        }
      : { DATA_DIR: dataDir, ...o.env };
    const t = new Topology(split ? ["consumer", "producer", "gateway"] : ["all"], env);
    topology = t;
    await t.startAll();
    phase("start");
    store = url ? postgresReader(url) : sqliteReader(join(dataDir, "logproc.sqlite"));
    const ledger = new Ledger(tag);
    const traffic = startTraffic(() => t.producerPort, ledger, {
      clients: o.clients ?? 3,
      pauseMs: o.pauseMs ?? 50,
      maxBatch: o.maxBatch ?? 50,
      random,
    });
    const reads = readLoop(() => t.gatewayPort, ledger, random);
    const actions = schedule(t.roles, o.restarts, split ? o.outages : [], random);
    const reader = store;
    const chaos = await runChaos(
      {
        topology: t,
        services,
        ledger,
        random,
        ...(split ? { watermark: () => reader.watermark() } : {}),
        outageMs: o.outageMs ?? [6000, 12_000],
        log,
      },
      actions,
      o.durationMs,
    ).finally(() => traffic.stop());
    await reads.stop();
    phase("faults");
    await settle(t.producerPort, ledger, 120_000);
    phase("resend");
    // Background (async) publishes settle within the send timeout; then everything on the bus must be stored.
    await Bun.sleep(3000);
    if (services && url) {
      const kafka = new Kafka({
        clientId: "soak",
        brokers: [services.kafkaBrokers],
        logLevel: logLevel.NOTHING,
      });
      await waitUntil(
        "the store at the head of the topic",
        () => caughtUp(kafka, url, topic, group),
        300_000,
        500,
        () => t.tails(),
      );
    }
    let last = -1;
    await waitUntil(
      "the stored rows to hold still",
      async () => {
        const now = await reader.watermark();
        const still = now === last;
        last = now;
        return still;
      },
      120_000,
      2000,
    );
    phase("drain");
    const verdict = await verify(reader, ledger, t.gatewayPort, o.byIdSample ?? 2000);
    phase("verify");
    return {
      mode: o.mode,
      seed: o.seed,
      durationS: (Date.now() - started) / 1000,
      counts: ledger.counts,
      pending: ledger.pending(),
      chaos,
      verdict,
      uncleanStops: t.uncleanStops,
      queries: reads.tally,
      phasesS,
    };
  } finally {
    await store?.close().catch(() => {});
    await topology?.stopAll().catch(() => {});
    if (services && !shared) await services.down();
    rmSync(dataDir, { recursive: true, force: true });
  }
};
