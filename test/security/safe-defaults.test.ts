// Safe defaults of the compiled binary: without API keys it listens on loopback only unless HOST says
// otherwise, an explicit non-loopback HOST without keys is warned about, and METRICS_REQUIRE_KEY=true
// without keys refuses to start.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import {
  BINARY,
  freePorts,
  type Ports,
  type Spawned,
  spawnLogproc,
  tempDir,
  waitFor,
} from "../helpers/proc.ts";
import { listenersOn, nonLoopbackAddress, tryConnect } from "./listening.ts";

setDefaultTimeout(60_000);

const KEYS = { INGEST_API_KEYS: "bind-ingest-key-1f2e", QUERY_API_KEYS: "bind-query-key-8c7d" };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const portsEnv = (p: Ports) => ({
  GATEWAY_PORT: String(p.gateway),
  PRODUCER_PORT: String(p.producer),
  CONSUMER_PORT: String(p.consumer),
});

interface Run {
  ports: Ports;
  /** Stops the process and returns what it wrote to stderr (its JSON log lines). */
  stop(): Promise<string>;
}

/** The binary, embedded (every role), with `env` and nothing else: no HOST unless given. */
const start = async (env: Record<string, string>): Promise<Run> => {
  const ports = freePorts();
  const dataDir = tempDir();
  dirs.push(dataDir);
  const s: Spawned = spawnLogproc([], { ...portsEnv(ports), DATA_DIR: dataDir, LOG_LEVEL: "info", ...env }, [
    BINARY,
  ]);
  const stop = async () => {
    s.proc.kill("SIGTERM");
    await s.proc.exited;
    return s.stderr();
  };
  try {
    await waitFor(`http://127.0.0.1:${ports.gateway}/gateway/api/query/health`);
    await waitFor(`http://127.0.0.1:${ports.producer}/producer/api/logs/health`);
    await waitFor(`http://127.0.0.1:${ports.consumer}/actuator/health`);
  } catch (error) {
    throw new Error(`${String(error)}\n${await stop()}`);
  }
  return { ports, stop };
};

const all = (p: Ports) => [p.gateway, p.producer, p.consumer];
const records = (stderr: string): Record<string, unknown>[] =>
  stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const exposureWarnings = (stderr: string) =>
  records(stderr).filter((r) => r.level === "warn" && r.message?.toString().includes("without API keys"));

const other = nonLoopbackAddress();

describe("without API keys and without HOST", () => {
  test("every role listens on 127.0.0.1 only: the kernel's table says so, another address is refused", async () => {
    const run = await start({});
    try {
      for (const port of all(run.ports)) {
        expect(await listenersOn(port)).toEqual(["127.0.0.1"]);
        if (other !== undefined) expect(await tryConnect(other, port)).toBe("ECONNREFUSED");
        expect(await tryConnect("127.0.0.1", port)).toBe("connected");
      }
    } finally {
      expect(exposureWarnings(await run.stop())).toEqual([]);
    }
  });
});

describe("HOST set explicitly", () => {
  test("HOST=0.0.0.0 without keys listens everywhere, with one warn line naming the address and the fix", async () => {
    const run = await start({ HOST: "0.0.0.0" });
    let stderr = "";
    try {
      for (const port of all(run.ports)) {
        expect(await listenersOn(port)).toEqual(["0.0.0.0"]);
        if (other !== undefined) expect(await tryConnect(other, port)).toBe("connected");
      }
    } finally {
      stderr = await run.stop();
    }
    const warnings = exposureWarnings(stderr);
    expect(warnings).toHaveLength(1);
    const [w] = warnings;
    expect(w?.message).toContain("0.0.0.0");
    expect(w).toMatchObject({ host: "0.0.0.0", openRoles: ["producer", "consumer", "gateway"] });
    expect(String(w?.fix)).toContain("INGEST_API_KEYS");
    expect(String(w?.fix)).toContain("QUERY_API_KEYS");
    expect(String(w?.fix)).toContain("HOST=127.0.0.1");
  });

  test("with every key configured, the default is every interface and nothing is warned", async () => {
    const run = await start(KEYS);
    let stderr = "";
    try {
      for (const port of all(run.ports)) {
        expect(await listenersOn(port)).toEqual(["0.0.0.0"]);
        if (other !== undefined) expect(await tryConnect(other, port)).toBe("connected");
      }
    } finally {
      stderr = await run.stop();
    }
    expect(exposureWarnings(stderr)).toEqual([]);
  });

  test("with query keys only, the producer it also runs is warned about", async () => {
    const run = await start({ HOST: "0.0.0.0", QUERY_API_KEYS: KEYS.QUERY_API_KEYS });
    const warnings = exposureWarnings(await run.stop());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.openRoles).toEqual(["producer"]);
  });
});

describe("METRICS_REQUIRE_KEY=true without keys", () => {
  const refused = async (env: Record<string, string>, role?: string) => {
    const s = spawnLogproc(role ? ["--role", role] : [], { ...portsEnv(freePorts()), ...env }, [BINARY]);
    // A binary that starts instead of refusing is stopped, so a failing test leaves nothing running.
    const code = await Promise.race([
      s.proc.exited,
      Bun.sleep(20_000).then(() => {
        s.proc.kill("SIGKILL");
        return "still running after 20 s";
      }),
    ]);
    return { code, stderr: await s.stderr() };
  };

  test("exits 2 before listening, naming the setting and the keys to set", async () => {
    const { code, stderr } = await refused({ METRICS_REQUIRE_KEY: "true" });
    expect(code).toBe(2);
    expect(stderr).toContain("METRICS_REQUIRE_KEY");
    expect(stderr).toContain("INGEST_API_KEYS");
    expect(stderr).toContain("QUERY_API_KEYS");
  });

  test("a split role needs its own keys: a gateway with ingest keys only is refused too", async () => {
    const { code, stderr } = await refused(
      {
        METRICS_REQUIRE_KEY: "true",
        INGEST_API_KEYS: KEYS.INGEST_API_KEYS,
        POSTGRES_URL: "postgres://127.0.0.1:1/none",
      },
      "gateway",
    );
    expect(code).toBe(2);
    expect(stderr).toContain("QUERY_API_KEYS (gateway)");
    expect(stderr).not.toContain(KEYS.INGEST_API_KEYS);
  });
});
