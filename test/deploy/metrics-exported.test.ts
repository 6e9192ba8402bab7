// The dashboard and the alert rules only query metrics, labels and label values the running roles export.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { type Embedded, type Exposition, exercise, parseExposition, startEmbedded } from "./embedded.ts";
import { selectors } from "./promql.ts";
import { alertQueries, dashboardQueries, type Query } from "./queries.ts";
import { ROLES } from "./roles.ts";

/** Series Prometheus makes itself for every target. */
const SYNTHETIC = new Set(["up"]);
/** Labels Prometheus attaches to every scraped series (the job names come from prometheus.yml). */
const TARGET_LABELS = ["job", "instance"];
/** Label values the queries rightly match on that the embedded test traffic cannot produce. */
const NOT_PRODUCED_HERE: Record<string, Record<string, string[]>> = {
  // Only when the bus refuses a publish (Kafka down or the breaker open).
  log_ingestion_total: { status: ["failed"] },
};
/** Series the test traffic must have made appear, so the panels over them are known to show data. */
const MUST_HAVE_SAMPLES = [
  "log_ingestion_total",
  "log_ingestion_duration_seconds_bucket",
  "kafka_messages_consumed_total",
  "log_events_stored_total",
  "log_processing_duration_seconds_bucket",
  "consumer_batch_size_bucket",
  "log_freshness_seconds_bucket",
  "log_queries_total",
  "log_query_duration_seconds_bucket",
  "cache_requests_total",
  "http_requests_total",
  "process_resident_memory_bytes",
];

let app: Embedded;
const scraped: Exposition[] = [];
let queries: Query[];

beforeAll(async () => {
  app = await startEmbedded();
  await exercise(app);
  for (const r of ROLES)
    for (const path of r.metrics) {
      const res = await fetch(app.url(r.role, path));
      if (res.status !== 200) throw new Error(`GET ${path} on the ${r.role} answered ${res.status}`);
      scraped.push(parseExposition(await res.text()));
    }
  queries = [...(await dashboardQueries()), ...(await alertQueries())];
}, 60_000);

afterAll(async () => {
  await app?.stop();
});

const families = () => {
  const all = new Map<string, string>();
  for (const e of scraped) for (const [name, type] of e.families) all.set(name, type);
  return all;
};

const samples = () => scraped.flatMap((e) => e.samples);

/** The family a queried series belongs to: itself, or the histogram/summary of a _bucket/_sum/_count series. */
const familyOf = (name: string, known: Map<string, string>): string | undefined => {
  if (known.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m?.[1] || !m[2]) return undefined;
  const type = known.get(m[1]);
  if (type === "histogram" || (type === "summary" && m[2] !== "bucket")) return m[1];
  return undefined;
};

/** Label names per family: as declared in metrics.ts, and as seen on the scraped samples. */
const labelNames = (): Map<string, Set<string>> => {
  const names = new Map<string, Set<string>>();
  const add = (family: string, label: string) =>
    names.set(family, (names.get(family) ?? new Set()).add(label));
  for (const metric of createMetrics(new Registry(), { defaults: false }).registry.getMetricsAsArray()) {
    const declared = (metric as { labelNames?: readonly string[] }).labelNames ?? [];
    for (const label of declared) add(metric.name, label);
  }
  const known = families();
  for (const s of samples()) {
    const family = familyOf(s.name, known) ?? s.name;
    for (const label of Object.keys(s.labels)) add(family, label);
  }
  return names;
};

describe("metrics named in the dashboard and the alert rules", () => {
  test("every role serves the Prometheus text format on its own path and on /metrics", async () => {
    for (const r of ROLES)
      for (const path of r.metrics) {
        const res = await fetch(app.url(r.role, path));
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type") ?? "").toStartWith("text/plain");
        expect(parseExposition(await res.text()).families.size).toBeGreaterThan(0);
      }
  });

  test("the dashboard and the alert rules query something", () => {
    expect(queries.filter((q) => q.origin.startsWith("panel")).length).toBeGreaterThan(10);
    expect(queries.filter((q) => q.origin.startsWith("alert")).length).toBeGreaterThanOrEqual(5);
  });

  test("every metric they query is exported by the running roles", () => {
    const known = families();
    const missing = queries.flatMap((q) =>
      selectors(q.expr)
        .filter((s) => !SYNTHETIC.has(s.name) && familyOf(s.name, known) === undefined)
        .map((s) => `${q.origin}: ${s.name}`),
    );
    expect(missing).toEqual([]);
  });

  test("every label they match on exists on that metric", () => {
    const known = families();
    const labels = labelNames();
    const wrong = queries.flatMap((q) =>
      selectors(q.expr).flatMap((s) => {
        const family = familyOf(s.name, known) ?? s.name;
        const allowed = new Set([
          ...TARGET_LABELS,
          ...(labels.get(family) ?? []),
          ...(s.name.endsWith("_bucket") ? ["le"] : []),
        ]);
        return s.matchers
          .filter((m) => !allowed.has(m.label))
          .map((m) => `${q.origin}: ${s.name}{${m.label}}`);
      }),
    );
    expect(wrong).toEqual([]);
  });

  test("every label value they match exactly is one the roles produce", () => {
    const seen = samples();
    const wrong = queries.flatMap((q) =>
      selectors(q.expr).flatMap((s) =>
        s.matchers
          .filter((m) => m.op === "=" && !TARGET_LABELS.includes(m.label))
          .filter((m) => !(NOT_PRODUCED_HERE[s.name]?.[m.label] ?? []).includes(m.value))
          .filter((m) => !seen.some((x) => x.name === s.name && x.labels[m.label] === m.value))
          .map((m) => `${q.origin}: ${s.name}{${m.label}="${m.value}"}`),
      ),
    );
    expect(wrong).toEqual([]);
  });

  test("the test traffic made the series of the main panels appear", () => {
    const names = new Set(samples().map((s) => s.name));
    expect(MUST_HAVE_SAMPLES.filter((n) => !names.has(n))).toEqual([]);
  });
});
