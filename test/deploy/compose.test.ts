// docker-compose.yml validates and wires the one image into the three roles, their services and monitoring.

import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { VARIABLES } from "../../src/config/variables.ts";
import { missingServices } from "../../src/roles/compose.ts";
import { ensureTools, run } from "./ensure-tools.ts";
import { REPO, ROLES, readDocs, readText } from "./roles.ts";

interface Service {
  image?: string;
  build?: { context: string } | string;
  command?: string[];
  environment?: Record<string, string | number | null>;
  ports?: ({ published: number | string; target: number; host_ip?: string } | string)[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

interface Compose {
  services: Record<string, Service>;
}

const emptyEnvFile = join(mkdtempSync(join(tmpdir(), "logproc-compose-")), "empty.env");
writeFileSync(emptyEnvFile, "");

/** `docker-compose config` with a clean environment (no .env, no shell overrides) plus the given variables. */
const composeConfig = (extra: Record<string, string> = {}) =>
  run(["docker-compose", "-f", join(REPO, "docker-compose.yml"), "--env-file", emptyEnvFile, "config"], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...extra },
  });

const NEEDS: Record<string, string[]> = {
  producer: ["kafka"],
  consumer: ["kafka", "postgres"],
  gateway: ["postgres", "redis"],
};
const KNOWN = new Set(VARIABLES.map((v) => v.name));

let compose: Compose;

beforeAll(() => {
  ensureTools();
  const out = composeConfig();
  if (out.code !== 0) throw new Error(`docker-compose config failed:\n${out.stderr}`);
  compose = Bun.YAML.parse(out.stdout) as Compose;
}, 120_000);

const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

interface Published {
  hostIp: string;
  published: number;
  target: number;
}

/** A published port in either form docker-compose prints ("127.0.0.1:8081:8081/tcp" or the long syntax). */
const published = (s: Service): Published[] =>
  (s.ports ?? []).map((p) => {
    if (typeof p !== "string")
      return { hostIp: p.host_ip ?? "", published: Number(p.published), target: p.target };
    const parts = p.replace(/\/tcp$/, "").split(":");
    const target = Number(parts.pop());
    const port = Number(parts.pop());
    return { hostIp: parts.join(":"), published: port, target };
  });

const env = (s: Service): Record<string, string> =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v === null ? "" : String(v)]));

describe("docker-compose.yml", () => {
  test("validates with docker-compose config", () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ["consumer", "gateway", "grafana", "kafka", "postgres", "prometheus", "producer", "redis"].sort(),
    );
  });

  test("runs the three roles from one image built from this repository", () => {
    const images = new Set(ROLES.map((r) => service(r.role).image));
    expect(images.size).toBe(1);
    for (const r of ROLES) {
      const build = service(r.role).build;
      expect(typeof build === "string" ? build : build?.context).toBe(REPO);
      expect(service(r.role).command).toEqual(["--role", r.role]);
    }
  });

  test("publishes each role on its port, on loopback only, and checks its health path there", () => {
    for (const r of ROLES) {
      const s = service(r.role);
      expect(published(s)).toEqual([
        { hostIp: "127.0.0.1", published: r.defaultPort, target: r.defaultPort },
      ]);
      expect(env(s)[r.portVariable]).toBe(String(r.defaultPort));
      expect(s.healthcheck?.test.join(" ")).toContain(`http://127.0.0.1:${r.defaultPort}${r.health}`);
    }
  });

  test("publishes every other service on loopback only", () => {
    for (const [name, s] of Object.entries(compose.services))
      for (const p of published(s)) expect({ name, hostIp: p.hostIp }).toEqual({ name, hostIp: "127.0.0.1" });
  });

  test("LOGPROC_BIND moves the roles' ports, and only theirs, to another address", () => {
    const out = composeConfig({ LOGPROC_BIND: "0.0.0.0" });
    expect(out.code).toBe(0);
    const c = Bun.YAML.parse(out.stdout) as Compose;
    for (const [name, s] of Object.entries(c.services)) {
      const role = ROLES.some((r) => r.role === name);
      for (const p of published(s))
        expect({ name, ip: p.hostIp }).toEqual({ name, ip: role ? "0.0.0.0" : "127.0.0.1" });
    }
  });

  test("the roles listen on every interface inside their containers: HOST is explicit", () => {
    for (const r of ROLES) {
      const e = env(service(r.role));
      expect(e.HOST).toBe("0.0.0.0");
      expect(loadConfig(e, r.role).host).toBe("0.0.0.0");
    }
  });

  test("runs Prometheus without the lifecycle API (a cross-site POST could stop it)", () => {
    expect(service("prometheus").command?.join(" ")).not.toContain("enable-lifecycle");
  });

  test("starts each role after the services it needs are healthy, and those have health checks", () => {
    for (const r of ROLES) {
      const deps = service(r.role).depends_on ?? {};
      expect(Object.keys(deps).sort()).toEqual((NEEDS[r.role] ?? []).sort());
      for (const [name, dep] of Object.entries(deps)) {
        expect(dep.condition).toBe("service_healthy");
        expect(service(name).healthcheck?.test.length ?? 0).toBeGreaterThan(0);
      }
    }
  });

  test("configures each role with known variables that its configuration accepts as a split role", () => {
    for (const r of ROLES) {
      const e = env(service(r.role));
      expect(Object.keys(e).filter((k) => !KNOWN.has(k))).toEqual([]);
      const config = loadConfig(e, r.role);
      expect(missingServices(config)).toBeUndefined();
    }
    expect(env(service("producer")).KAFKA_BOOTSTRAP_SERVERS).toBe("kafka:19092");
    expect(env(service("consumer")).POSTGRES_URL).toStartWith("postgres://postgres:5432/");
    expect(env(service("gateway")).REDIS_HOST).toBe("redis");
  });

  test("the roles reach the database with the credentials the database is created with", () => {
    const db = env(service("postgres"));
    for (const role of ["consumer", "gateway"]) {
      const e = env(service(role));
      expect(e.POSTGRES_USERNAME).toBe(db.POSTGRES_USER);
      expect(e.POSTGRES_PASSWORD).toBe(db.POSTGRES_PASSWORD);
      expect(e.POSTGRES_URL).toEndWith(`/${db.POSTGRES_DB}`);
    }
    expect(env(service("gateway")).REDIS_PASSWORD).toBe(env(service("redis")).REDIS_PASSWORD);
  });

  test("takes every password and key from an overridable variable, never a literal", async () => {
    const raw = await readText("docker-compose.yml");
    const secretLines = raw.split("\n").filter((l) => /^\s+[A-Z_]*(PASSWORD|_AUTH|API_KEYS)[A-Z_]*:/.test(l));
    expect(secretLines.length).toBeGreaterThanOrEqual(6);
    for (const line of secretLines) expect(line).toMatch(/:\s+\$\{[A-Z_]+:-[^}]*\}\s*$/);
  });

  test("uses the overrides from the environment", () => {
    const out = composeConfig({
      POSTGRES_PASSWORD: "pg-override",
      REDIS_PASSWORD: "redis-override",
      GRAFANA_ADMIN_PASSWORD: "gf-override",
      GRAFANA_DB_PASSWORD: "gf-db-override",
    });
    expect(out.code).toBe(0);
    const c = Bun.YAML.parse(out.stdout) as Compose;
    expect(c.services.postgres?.environment?.POSTGRES_PASSWORD).toBe("pg-override");
    expect(c.services.consumer?.environment?.POSTGRES_PASSWORD).toBe("pg-override");
    expect(c.services.gateway?.environment?.REDIS_PASSWORD).toBe("redis-override");
    expect(c.services.grafana?.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe("gf-override");
    expect(c.services.grafana?.environment?.GRAFANA_DB_PASSWORD).toBe("gf-db-override");
    expect(c.services.postgres?.environment?.GRAFANA_DB_PASSWORD).toBe("gf-db-override");
    expect(out.stdout).not.toContain("POSTGRES_PASSWORD: logproc");
  });

  test("documents every variable it substitutes", async () => {
    const raw = await readText("docker-compose.yml");
    const docs = await readDocs();
    const header = raw
      .split("\n")
      .filter((l) => l.startsWith("#"))
      .join("\n");
    const used = [...new Set([...raw.matchAll(/\$\{([A-Z_]+):-/g)].map((m) => m[1] ?? ""))];
    const inHeader = (v: string) =>
      header.includes(v) || (v.endsWith("_HOST_PORT") && header.includes("*_HOST_PORT"));
    const undocumented = used.filter((v) => !inHeader(v) || !docs.includes(v));
    expect(undocumented).toEqual([]);
  });

  test("gives Grafana's PostgreSQL datasource the read-only role the database's init script creates", () => {
    expect(service("postgres").volumes).toContain(
      `${join(REPO, "config", "postgres", "initdb")}:/docker-entrypoint-initdb.d:ro`,
    );
    const db = env(service("postgres"));
    const grafana = env(service("grafana"));
    expect(grafana.POSTGRES_DB).toBe(db.POSTGRES_DB);
    expect(grafana.GRAFANA_DB_USER).toBe(db.GRAFANA_DB_USER);
    expect(grafana.GRAFANA_DB_PASSWORD).toBe(db.GRAFANA_DB_PASSWORD);
    expect(grafana.GRAFANA_DB_USER).not.toBe(db.POSTGRES_USER);
    expect(Object.keys(service("grafana").depends_on ?? {})).toContain("postgres");
  });

  test("mounts the Prometheus configuration whose targets are the role services", async () => {
    expect(service("prometheus").volumes).toContain(
      `${join(REPO, "config", "prometheus")}:/etc/prometheus:ro`,
    );
    const prom = Bun.YAML.parse(await readText("config/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    for (const r of ROLES) {
      const job = prom.scrape_configs.find((j) => j.job_name === r.job);
      expect(job?.static_configs.flatMap((s) => s.targets)).toEqual([`${r.role}:${r.defaultPort}`]);
    }
  });

  test("mounts Grafana's provisioning and the dashboards where the provider reads them", async () => {
    const volumes = service("grafana").volumes ?? [];
    expect(volumes).toContain(
      `${join(REPO, "config", "grafana", "provisioning")}:/etc/grafana/provisioning:ro`,
    );
    const provider = Bun.YAML.parse(await readText("config/grafana/provisioning/dashboards/logproc.yml")) as {
      providers: { options: { path: string } }[];
    };
    const path = provider.providers[0]?.options.path;
    expect(volumes).toContain(`${join(REPO, "config", "grafana", "dashboards")}:${path}:ro`);
    const datasource = Bun.YAML.parse(
      await readText("config/grafana/provisioning/datasources/prometheus.yml"),
    ) as {
      datasources: { url: string }[];
    };
    expect(datasource.datasources[0]?.url).toBe("http://prometheus:9090");
    expect(service("prometheus").command?.join(" ")).toContain(
      "--config.file=/etc/prometheus/prometheus.yml",
    );
  });
});
