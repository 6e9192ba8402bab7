// config/prometheus passes promtool's checks and unit tests, scrapes every role, and alerts on what the issue names.

import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ensureTools, run } from "./ensure-tools.ts";
import { readAlertRules } from "./queries.ts";
import { REPO, ROLES } from "./roles.ts";

const DIR = join(REPO, "config", "prometheus");

/** The situations the issue asks alerts for, and the alert that covers each. */
const REQUIRED: Record<string, string> = {
  "consumer lag growing": "LogprocConsumerLagGrowing",
  "DLQ not empty": "LogprocDeadLetters",
  "circuit breaker open": "LogprocCircuitBreakerOpen",
  "error ratio": "LogprocHttpErrorRatioHigh",
  "a role down": "LogprocRoleDown",
};

beforeAll(() => ensureTools(), 120_000);

describe("Prometheus configuration", () => {
  test("promtool accepts prometheus.yml and the rule file it loads", () => {
    const out = run(["promtool", "check", "config", "prometheus.yml"], { cwd: DIR });
    expect(out.stdout + out.stderr).toContain("SUCCESS");
    expect(out.code).toBe(0);
  });

  test("promtool accepts alerts.yml", () => {
    const out = run(["promtool", "check", "rules", "alerts.yml"], { cwd: DIR });
    expect(out.code).toBe(0);
  });

  test("every alert passes its promtool unit tests", () => {
    const out = run(["promtool", "test", "rules", "alerts.test.yml"], { cwd: DIR });
    if (out.code !== 0) throw new Error(out.stdout + out.stderr);
    expect(out.stdout).toContain("SUCCESS");
  });

  test("every alert has a unit test in which it fires", async () => {
    const tests = Bun.YAML.parse(await Bun.file(join(DIR, "alerts.test.yml")).text()) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const firing = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    const alerts = (await readAlertRules()).groups.flatMap((g) => g.rules.map((r) => r.alert ?? ""));
    expect(alerts.filter((a) => !firing.has(a))).toEqual([]);
  });

  test("has an alert for each situation the issue names, with a severity and a description", async () => {
    const rules = (await readAlertRules()).groups.flatMap((g) => g.rules) as {
      alert?: string;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
    }[];
    for (const alert of Object.values(REQUIRED)) expect(rules.map((r) => r.alert)).toContain(alert);
    for (const r of rules) {
      expect(["critical", "warning"]).toContain(r.labels?.severity ?? "");
      expect(r.annotations?.summary ?? "").not.toBe("");
      expect(r.annotations?.description ?? "").not.toBe("");
    }
  });

  test("scrapes each role on its own metrics path, under the job name the alerts and dashboard use", async () => {
    const config = Bun.YAML.parse(await Bun.file(join(DIR, "prometheus.yml")).text()) as {
      scrape_configs: { job_name: string; metrics_path?: string }[];
    };
    for (const r of ROLES) {
      const job = config.scrape_configs.find((j) => j.job_name === r.job);
      expect(job?.metrics_path).toBe(r.metrics[0]);
    }
  });
});
