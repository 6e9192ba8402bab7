// The provisioned Grafana: a Prometheus datasource, a file provider, and a dashboard that covers the panels.

import { describe, expect, test } from "bun:test";
import { selectors } from "./promql.ts";
import { readDashboard } from "./queries.ts";
import { readText } from "./roles.ts";

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource?: { uid: string } }[];
  panels?: Panel[];
}

/** Grafana's own `${datasource}` variable syntax, built so it does not read as a forgotten template literal. */
const DATASOURCE_VARIABLE = ["$", "{datasource}"].join("");

const flatten = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);

/** What the issue asks the dashboard to show, and a test on a panel query that shows it. */
const COVERAGE: Record<string, (expr: string) => boolean> = {
  "ingest rate": (e) => /rate\(log_ingestion_total/.test(e),
  "consumer lag": (e) => selectors(e).some((s) => s.name === "consumer_lag"),
  "freshness p99": (e) => /histogram_quantile\(0\.99,.*log_freshness_seconds_bucket/.test(e),
  "error rates": (e) => /http_requests_total\{status=~"5\.\."\}/.test(e),
  "DLQ count": (e) => selectors(e).some((s) => s.name === "dlq_messages_total"),
  "circuit breaker states": (e) => selectors(e).some((s) => s.name === "circuit_breaker_state"),
  "cache hit ratio": (e) => /cache_requests_total\{result="hit"\}.*\/.*cache_requests_total/.test(e),
  "query latency": (e) => /histogram_quantile\(.*log_query_duration_seconds_bucket/.test(e),
};

describe("Grafana provisioning", () => {
  test("provisions the Prometheus datasource under the uid the dashboard defaults to", async () => {
    const ds = Bun.YAML.parse(await readText("config/grafana/provisioning/datasources/prometheus.yml")) as {
      apiVersion: number;
      datasources: { type: string; uid: string; isDefault: boolean }[];
    };
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0]?.type).toBe("prometheus");
    const dashboard = await readDashboard();
    const variable = (
      dashboard.templating as {
        list: { name: string; type: string; query: string; current: { value: string } }[];
      }
    ).list[0];
    expect(variable).toMatchObject({ name: "datasource", type: "datasource", query: "prometheus" });
    expect(variable?.current.value).toBe(ds.datasources[0]?.uid ?? "");
  });

  test("provides dashboards from files", async () => {
    const p = Bun.YAML.parse(await readText("config/grafana/provisioning/dashboards/logproc.yml")) as {
      apiVersion: number;
      providers: { type: string; options: { path: string } }[];
    };
    expect(p.apiVersion).toBe(1);
    expect(p.providers[0]?.type).toBe("file");
    expect(p.providers[0]?.options.path).toStartWith("/");
  });

  test("the dashboard has a stable uid, unique panel ids and panels inside the 24-column grid", async () => {
    const dashboard = await readDashboard();
    expect(dashboard.uid).toBe("logproc");
    const panels = flatten(dashboard.panels as Panel[]);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(p.gridPos.w).toBeGreaterThan(0);
    }
  });

  test("every query panel uses the datasource variable", async () => {
    const panels = flatten((await readDashboard()).panels as Panel[]).filter((p) => p.type !== "row");
    for (const p of panels) {
      expect(p.datasource?.uid).toBe(DATASOURCE_VARIABLE);
      expect(p.targets?.length ?? 0).toBeGreaterThan(0);
      for (const t of p.targets ?? [])
        expect(t.datasource?.uid ?? DATASOURCE_VARIABLE).toBe(DATASOURCE_VARIABLE);
    }
  });

  test("shows everything the issue asks for", async () => {
    const exprs = flatten((await readDashboard()).panels as Panel[]).flatMap((p) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    const missing = Object.entries(COVERAGE)
      .filter(([, covers]) => !exprs.some(covers))
      .map(([what]) => what);
    expect(missing).toEqual([]);
  });
});
