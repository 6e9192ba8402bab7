// A real Prometheus, configured from config/prometheus, scrapes the running roles, finds them up, loads the
// alert rules, and runs every dashboard and alert query without error.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Embedded, exercise, freePort, startEmbedded, waitFor } from "./embedded.ts";
import { ensureTools } from "./ensure-tools.ts";
import { ALERTS_PATH, alertQueries, dashboardQueries, forPrometheus } from "./queries.ts";
import { REPO, ROLES } from "./roles.ts";

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[] }[];
}

interface ApiAnswer<T> {
  status: string;
  data: T;
  error?: string;
}

let app: Embedded;
let prometheus: ReturnType<typeof Bun.spawn> | undefined;
let promLog = "";
let workDir: string;
let base: string;

const api = async <T>(path: string): Promise<ApiAnswer<T>> =>
  (await (await fetch(`${base}${path}`)).json()) as ApiAnswer<T>;

/** The committed config with each role's target on loopback, fast intervals and the rules by absolute path. */
const testConfig = async (): Promise<string> => {
  const committed = Bun.YAML.parse(
    await Bun.file(join(REPO, "config", "prometheus", "prometheus.yml")).text(),
  ) as {
    scrape_configs: ScrapeConfig[];
  };
  const jobs = committed.scrape_configs.flatMap((job) => {
    const role = ROLES.find((r) => r.job === job.job_name);
    return role ? [{ ...job, static_configs: [{ targets: [`127.0.0.1:${app.ports[role.role]}`] }] }] : [];
  });
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
    rule_files: [ALERTS_PATH],
    scrape_configs: jobs,
  };
  const path = join(workDir, "prometheus.yml");
  writeFileSync(path, JSON.stringify(config, null, 2)); // JSON is YAML
  return path;
};

beforeAll(async () => {
  ensureTools();
  workDir = mkdtempSync(join(tmpdir(), "logproc-prometheus-"));
  app = await startEmbedded();
  await exercise(app);
  const port = freePort();
  base = `http://127.0.0.1:${port}`;
  const proc = Bun.spawn(
    [
      "prometheus",
      `--config.file=${await testConfig()}`,
      `--storage.tsdb.path=${join(workDir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { cwd: workDir, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  prometheus = proc;
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) promLog += decoder.decode(chunk, { stream: true });
  })();
  await waitFor("Prometheus to be ready", async () => {
    if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${promLog}`);
    return (await fetch(`${base}/-/ready`)).status === 200 ? true : undefined;
  });
}, 90_000);

afterAll(async () => {
  if (prometheus) {
    prometheus.kill("SIGTERM");
    await prometheus.exited;
  }
  await app?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

describe("Prometheus with the committed configuration", () => {
  test("scrapes every role on its metrics path and finds it up", async () => {
    const targets = await waitFor(
      "every role target to be up",
      async () => {
        const answer = await api<{ activeTargets: Target[] }>("/api/v1/targets");
        const active = answer.data.activeTargets;
        return active.length === ROLES.length && active.every((t) => t.health === "up") ? active : undefined;
      },
      30_000,
    ).catch(async (error: unknown) => {
      const answer = await api<{ activeTargets: Target[] }>("/api/v1/targets");
      throw new Error(`${String(error)}\n${JSON.stringify(answer.data.activeTargets, null, 2)}\n${promLog}`);
    });
    for (const r of ROLES) {
      const target = targets.find((t) => t.labels.job === r.job);
      expect(target?.scrapeUrl).toBe(`http://127.0.0.1:${app.ports[r.role]}${r.metrics[0]}`);
    }
    const up = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
      `/api/v1/query?query=${encodeURIComponent('up{job=~"logproc-.+"}')}`,
    );
    expect(up.data.result.map((s) => [s.metric.job, s.value[1]]).sort()).toEqual(
      ROLES.map((r) => [r.job, "1"]).sort(),
    );
  }, 40_000);

  test("holds the events the roles stored, as scraped from the consumer", async () => {
    const stored = await waitFor("log_events_stored_total in Prometheus", async () => {
      const answer = await api<{ result: { value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent('sum(log_events_stored_total{job="logproc-consumer"})')}`,
      );
      const value = Number(answer.data.result[0]?.value[1] ?? 0);
      return value > 0 ? value : undefined;
    });
    expect(stored).toBeGreaterThanOrEqual(6);
  }, 40_000);

  test("runs every dashboard and alert query without error", async () => {
    const failures: string[] = [];
    for (const q of [...(await dashboardQueries()), ...(await alertQueries())]) {
      const answer = await api<unknown>(`/api/v1/query?query=${encodeURIComponent(forPrometheus(q.expr))}`);
      if (answer.status !== "success") failures.push(`${q.origin}: ${answer.error ?? answer.status}`);
    }
    expect(failures).toEqual([]);
  }, 20_000);

  test("loads every alert rule and evaluates it without error", async () => {
    const names = (await alertQueries()).map((q) => q.origin.replace(/^alert /, "")).sort();
    interface Rule {
      name: string;
      health: string;
      lastError?: string;
    }
    const rules = await waitFor("every rule to be evaluated", async () => {
      const answer = await api<{ groups: { rules: Rule[] }[] }>("/api/v1/rules");
      const all = answer.data.groups.flatMap((g) => g.rules);
      return all.length === names.length && all.every((r) => r.health !== "unknown") ? all : undefined;
    });
    expect(rules.map((r) => r.name).sort()).toEqual(names);
    expect(rules.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  }, 40_000);
});
