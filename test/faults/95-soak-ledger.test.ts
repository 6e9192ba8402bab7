// A short run of the soak's ledger (bench/scenarios/soak.ts): mixed traffic through restarts of every role
// with both signals, and (split mode) outages of a private Kafka, PostgreSQL and Redis — every acknowledged
// id stored exactly once, found by the gateway, counted by stats. The private services are the soak's own.

import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { runSoak, type SoakReport } from "../../bench/lib/soak/run.ts";
import { downAll, PrivateServices } from "../../bench/lib/soak/services.ts";
import { report } from "../helpers/faults-load.ts";
import { killAll } from "../helpers/faults-process.ts";

// Bounds far above a run on a quiet machine (~1 and ~2.5 min): a shared, overloaded one is slower.
setDefaultTimeout(480_000);

// The split run's private Kafka (a JVM) takes longest to start: it starts while the embedded run goes on.
const privateServices = new PrivateServices(`t${process.pid.toString(36)}`);
const servicesUp = privateServices.up();
servicesUp.catch(() => {}); // awaited (and reported) by the split test

// A run cut short (a timeout) leaves its roles and private services behind: end them whatever happened.
afterAll(async () => {
  await killAll();
  await downAll();
});

const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);

const summary = (r: SoakReport) => ({
  seed: r.seed,
  acknowledged: r.counts.acknowledged,
  asyncAccepted: r.counts.asyncAccepted,
  asyncStored: r.verdict.asyncStored,
  rows: r.verdict.rows,
  lost: r.verdict.lost,
  duplicated: r.verdict.duplicated,
  phantom: r.verdict.phantom,
  pending: r.pending,
  byId: `${r.verdict.byIdChecked - r.verdict.byIdMissing}/${r.verdict.byIdChecked}`,
  stats: r.verdict.stats,
  restarts: r.chaos.restarts.map((x) => `${x.role}:${x.signal}`).join(","),
  outages: r.chaos.outages.map((x) => x.service).join(","),
  takeoverMs: r.chaos.takeoversMs,
  resent: r.counts.resentAcked + r.counts.resentUnacked,
  unexpected: r.counts.unexpected,
  phasesS: r.phasesS,
  examples: r.verdict.examples,
});

/** What every run must show, whatever the mode. */
const expectExactlyOnce = (r: SoakReport) => {
  expect(r.counts.acknowledged).toBeGreaterThan(0);
  expect(r.pending).toBe(0);
  expect(r.verdict.lost).toBe(0);
  expect(r.verdict.duplicated).toBe(0);
  expect(r.verdict.phantom).toBe(0);
  expect(r.verdict.rows).toBe(r.verdict.distinctIds);
  // Every acknowledged id stored, plus the async and never-acknowledged ones that made it: none beyond sent.
  expect(r.verdict.rows).toBeGreaterThanOrEqual(r.counts.acknowledged);
  expect(r.verdict.byIdChecked).toBeGreaterThan(0);
  expect(r.verdict.byIdMissing).toBe(0);
  expect(r.verdict.stats.totalLogs).toBe(r.verdict.rows);
  expect(r.verdict.statsMatch).toBe(true);
  expect(r.counts.unexpected).toEqual({});
  expect(r.uncleanStops).toEqual([]);
  const signals = new Set(r.chaos.restarts.map((x) => x.signal));
  expect([...signals].sort()).toEqual(["SIGKILL", "SIGTERM"]);
};

test("embedded: through SIGTERM and kill -9 restarts every acknowledged event is stored exactly once", async () => {
  const r = await runSoak({
    mode: "embedded",
    durationMs: 35_000,
    restarts: 4,
    outages: [],
    seed,
    byIdSample: 500,
  });
  report("95 soak embedded", summary(r));
  expectExactlyOnce(r);
  expect(r.chaos.restarts.length).toBe(4);
});

test("split: through restarts of every role and Kafka, PostgreSQL and Redis outages, every acknowledged event is stored exactly once", async () => {
  await servicesUp;
  const r = await runSoak(
    {
      mode: "split",
      durationMs: 45_000,
      restarts: 4,
      outages: ["kafka", "postgres", "redis"],
      outageMs: [4000, 6000],
      seed,
      byIdSample: 500,
    },
    privateServices,
  );
  report("95 soak split", summary(r));
  expectExactlyOnce(r);
  expect(new Set(r.chaos.restarts.map((x) => x.role))).toEqual(new Set(["producer", "consumer", "gateway"]));
  expect(r.chaos.outages.map((x) => x.service).sort()).toEqual(["kafka", "postgres", "redis"]);
  // A restarted consumer took the killed one's partitions over (how fast is a bench figure, not a test's).
  expect(r.chaos.takeoversMs.length).toBeGreaterThan(0);
  for (const ms of r.chaos.takeoversMs) expect(Number.isFinite(ms)).toBe(true);
});
