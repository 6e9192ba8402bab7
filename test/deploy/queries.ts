// Every PromQL expression the deployment ships: the Grafana dashboard's panel queries and the alert rules.

import { join } from "node:path";
import { REPO } from "./roles.ts";

export const DASHBOARD_PATH = join(REPO, "config", "grafana", "dashboards", "logproc.json");
export const ALERTS_PATH = join(REPO, "config", "prometheus", "alerts.yml");

export interface Query {
  /** Where it comes from: "panel <title>" or "alert <name>". */
  origin: string;
  expr: string;
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string }[];
}

interface AlertRules {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

export const readDashboard = async (): Promise<{ panels: Panel[] } & Record<string, unknown>> =>
  JSON.parse(await Bun.file(DASHBOARD_PATH).text());

export const readAlertRules = async (): Promise<AlertRules> =>
  Bun.YAML.parse(await Bun.file(ALERTS_PATH).text()) as AlertRules;

const panelQueries = (panels: Panel[]): Query[] =>
  panels.flatMap((p) => [
    ...(p.targets ?? []).flatMap((t) =>
      t.expr ? [{ origin: `panel "${p.title ?? "?"}"`, expr: t.expr }] : [],
    ),
    ...panelQueries(p.panels ?? []),
  ]);

export const dashboardQueries = async (): Promise<Query[]> => panelQueries((await readDashboard()).panels);

export const alertQueries = async (): Promise<Query[]> =>
  (await readAlertRules()).groups.flatMap((g) =>
    g.rules.map((r) => ({ origin: `alert ${r.alert ?? r.record}`, expr: r.expr })),
  );

/** Grafana's interval variables, replaced by a fixed range so Prometheus can run the query as is. */
export const forPrometheus = (expr: string): string =>
  expr.replace(/\$__(rate_interval|interval|range)\b/g, "1m");
