// Starts logproc in embedded mode (--role all) as a separate process on free loopback ports, and drives it.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../scripts/free-port.ts";
import { REPO, ROLES, type RoleName } from "./roles.ts";

export { freePort };

export interface Embedded {
  ports: Record<RoleName, number>;
  url(role: RoleName, path: string): string;
  /** What the process wrote to stderr so far (its JSON log lines). */
  logs(): string;
  stop(): Promise<void>;
}

/** LOGPROC_BIN=dist/logproc tests the compiled binary; by default the current sources run under Bun. */
const command = (): string[] => {
  const bin = process.env.LOGPROC_BIN;
  return bin
    ? [bin.startsWith("/") ? bin : join(REPO, bin)]
    : [process.execPath, join(REPO, "src", "main.ts")];
};

export const waitFor = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
};

export const startEmbedded = async (): Promise<Embedded> => {
  const dataDir = mkdtempSync(join(tmpdir(), "logproc-deploy-"));
  const ports = { producer: freePort(), consumer: freePort(), gateway: freePort() };
  // A clean environment: a developer's POSTGRES_URL or KAFKA_BOOTSTRAP_SERVERS must not leak in.
  const proc = Bun.spawn([...command(), "--role", "all"], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dataDir,
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PRODUCER_PORT: String(ports.producer),
      CONSUMER_PORT: String(ports.consumer),
      GATEWAY_PORT: String(ports.gateway),
      LOG_LEVEL: "info",
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderr = "";
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const url = (role: RoleName, path: string) => `http://127.0.0.1:${ports[role]}${path}`;
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
    await drained;
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (const r of ROLES) {
      const up = await waitFor(`${r.role} health`, async () => {
        if (proc.exitCode !== null) return "exited";
        const res = await fetch(url(r.role, r.health));
        return res.status === 200 ? "up" : undefined;
      });
      if (up === "exited") throw new Error(`logproc exited with ${proc.exitCode}:\n${stderr}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { ports, url, logs: () => stderr, stop };
};

const post = async (target: string, body: unknown) => {
  const res = await fetch(target, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

/**
 * Traffic that makes the labelled series appear: accepted and rejected events, a stored batch (freshness,
 * batch size), queries by endpoint answered once from the store and once from the cache, a 404.
 */
export const exercise = async (app: Embedded): Promise<void> => {
  const source = `deploy-test-${process.pid}`;
  const events = Array.from({ length: 5 }, (_, i) => ({
    level: "INFO",
    message: `deploy event ${i}`,
    source,
  }));
  const batch = await post(app.url("producer", "/producer/api/logs/batch"), [
    ...events,
    { level: "NOPE", message: "" },
  ]);
  if (batch.status !== 200 || batch.body.successCount !== 5)
    throw new Error(`batch ingest answered ${batch.status}: ${JSON.stringify(batch.body)}`);
  const one = await post(app.url("producer", "/producer/api/logs/ingest"), {
    level: "ERROR",
    message: "one",
    source,
  });
  if (one.status !== 200) throw new Error(`ingest answered ${one.status}: ${JSON.stringify(one.body)}`);
  await waitFor("the events to be stored", async () => {
    const text = await (await fetch(app.url("consumer", "/metrics"))).text();
    const stored = parseExposition(text).samples.filter((s) => s.name === "log_events_stored_total");
    return stored.reduce((sum, s) => sum + s.value, 0) >= 6 ? true : undefined;
  });
  const query = `/gateway/api/query/logs?source=${source}`;
  for (const path of [
    query,
    query,
    `/gateway/api/query/search?q=deploy&source=${source}`,
    "/gateway/api/query/stats",
    "/gateway/api/query/nope",
  ])
    await (await fetch(app.url("gateway", path))).arrayBuffer();
};

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Metric family name → type, from the # TYPE lines. */
  families: Map<string, string>;
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (0.0.4), as prom-client writes it. */
export const parseExposition = (text: string): Exposition => {
  const families = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (trimmed.startsWith("#")) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(trimmed);
      if (type?.[1] && type[2]) families.set(type[1], type[2]);
      continue;
    }
    const m = SAMPLE.exec(trimmed);
    if (!m?.[1] || m[3] === undefined) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) if (l[1] && l[2] !== undefined) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { families, samples };
};
