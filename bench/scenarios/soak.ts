// soak: the ledger checker. Mixed traffic through random restarts of every role (SIGTERM and kill -9) and
// outages of a private Kafka, PostgreSQL and Redis, in embedded and split mode; then every acknowledged id
// must be stored exactly once, found by the gateway, and counted by stats. Figures, not speeds.

import type { BenchOptions } from "../lib/context.ts";
import { ResultBuilder } from "../lib/context.ts";
import { note } from "../lib/progress.ts";
import { figure } from "../lib/results.ts";
import { runSoak, type SoakReport } from "../lib/soak/run.ts";
import type { Service } from "../lib/soak/services.ts";

const OUTAGE_CYCLE: Service[] = ["kafka", "postgres", "redis"];
/** The issue's bound on a takeover after a consumer's kill -9. */
const TAKEOVER_GOAL_S = 15;

export const soakPlan = (minutes: number) => ({
  durationMs: minutes * 60_000,
  restarts: Math.max(3, Math.round(minutes * 2.4)),
  outages: Array.from(
    { length: Math.max(3, Math.round(minutes * 0.8)) },
    (_, i) => OUTAGE_CYCLE[i % 3] as Service,
  ),
});

const figures = (res: ResultBuilder, r: SoakReport): void => {
  const m = r.mode;
  const v = r.verdict;
  const c = r.chaos;
  const killed = c.restarts.filter((x) => x.signal === "SIGKILL").length;
  const f = (name: string, unit: string, value: number, extra: Partial<Parameters<typeof figure>[0]> = {}) =>
    res.figures.push(figure({ name: `${m}: ${name}`, unit, value, ...extra }));
  f("events acknowledged (200, durable)", "events", r.counts.acknowledged, {
    detail: { rows: v.rows, requests: r.counts.requests, sentDurable: r.counts.sentDurable },
  });
  f("async events accepted (202)", "events", r.counts.asyncAccepted, {
    detail: { stored: v.asyncStored, notStored: v.asyncLost },
  });
  f("restarts", "restarts", c.restarts.length, {
    detail: {
      sigterm: c.restarts.length - killed,
      sigkill: killed,
      withRequestsInFlight: c.restarts.filter((x) => x.inFlight > 0).length,
      ...Object.fromEntries(
        ["all", "producer", "consumer", "gateway"].map((k) => [
          k,
          c.restarts.filter((x) => x.role === k).length,
        ]),
      ),
    },
  });
  f("outages", "outages", c.outages.length, {
    detail: Object.fromEntries(OUTAGE_CYCLE.map((s) => [s, c.outages.filter((o) => o.service === s).length])),
  });
  f("lost (acknowledged, not stored)", "events", v.lost, { goalMax: 0 });
  f("duplicated (rows beyond one per id)", "rows", v.duplicated, { goalMax: 0 });
  f("stored but never sent", "rows", v.phantom, { goalMax: 0 });
  f("still unacknowledged after resends", "events", r.pending, { goalMax: 0 });
  f("GET /logs/{id} missing", "ids", v.byIdMissing, { goalMax: 0, detail: { checked: v.byIdChecked } });
  const statsGap = Math.max(...Object.values(v.stats).map((n) => Math.abs(n - v.rows)));
  f("stats minus rows", "events", statsGap, { goalMax: 0, detail: { ...v.stats, rows: v.rows } });
  f("resent events", "events", r.counts.resentAcked + r.counts.resentUnacked, {
    detail: {
      neverAcknowledged: r.counts.resentUnacked,
      alreadyAcknowledged: r.counts.resentAcked,
      answered503: r.counts.rejected503,
      unanswered: r.counts.unanswered,
    },
  });
  if (c.takeoversMs.length)
    f("takeover after a consumer kill -9 (slowest)", "s", Math.max(...c.takeoversMs) / 1000, {
      goalMax: TAKEOVER_GOAL_S,
      detail: {
        kills: c.takeoversMs.length,
        allMs: c.takeoversMs.map(Math.round).join(","),
        restartedAfterMs: c.takeoverSteps.map((x) => x.spawnedMs).join(","),
        joinedAfterMs: c.takeoverSteps.map((x) => x.joinedMs).join(","),
      },
    });
  f("gateway reads answered 200 during the run", "%", (100 * r.queries.ok) / Math.max(1, r.queries.asked), {
    detail: r.queries,
  });
  res.notes.push(`${m}: seconds per phase ${JSON.stringify(r.phasesS)}`);
  res.notes.push(`${m}: 503 answers by message ${JSON.stringify(r.counts.reasons503)}`);
  const unexpected = Object.entries(r.counts.unexpected);
  if (unexpected.length) res.notes.push(`${m}: unexpected answers ${JSON.stringify(r.counts.unexpected)}`);
  if (r.uncleanStops.length)
    res.notes.push(`${m}: SIGTERM stops that did not exit 0: ${r.uncleanStops.join("; ")}`);
  for (const [k, list] of Object.entries(v.examples))
    if (list.length) res.notes.push(`${m}: ${k} e.g. ${list.join(", ")}`);
};

export const soak = async (opts: BenchOptions) => {
  const res = new ResultBuilder("soak", opts);
  const minutes = opts.minutes ?? (opts.tiny ? 0.75 : 5);
  const plan = soakPlan(minutes);
  const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
  Object.assign(res.params, {
    minutesPerMode: minutes,
    seed,
    restartsPerMode: plan.restarts,
    splitOutages: plan.outages.join(","),
  });
  for (const mode of ["embedded", "split"] as const) {
    note(
      `soak: ${mode} for ${minutes} min, ${plan.restarts} restarts${mode === "split" ? `, outages ${plan.outages.join(", ")}` : ""}`,
    );
    const report = await runSoak({ mode, seed, ...plan });
    figures(res, report);
  }
  res.notes.push(
    "Private PostgreSQL cluster, Kafka broker and Redis on free ports (never the shared ones); one consumer holds every partition, so a takeover is its restart plus the group's wait for the killed member's session.",
  );
  return res.build();
};
