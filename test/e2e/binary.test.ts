// The compiled binary end to end: embedded mode answers, survives kill -9, and refuses bad configuration.

import { afterEach, describe, expect, it } from "bun:test";
import { existsSync } from "node:fs";
import { BINARY, freePorts, portEnv, type Spawned, spawnLogproc, tempDir, waitFor } from "../helpers/proc.ts";

const running: Spawned[] = [];
afterEach(() => {
  for (const s of running.splice(0)) s.proc.kill(9);
});

const start = (env: Record<string, string>, args: string[] = []): Spawned => {
  const s = spawnLogproc(args, env);
  running.push(s);
  return s;
};

const ingest = (port: number, body: unknown) =>
  fetch(`http://127.0.0.1:${port}/producer/api/logs/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("dist/logproc", () => {
  it("exists (npm run build)", () => {
    expect(existsSync(BINARY)).toBe(true);
  });

  it("runs all roles embedded with no configuration and returns an ingested event", async () => {
    const ports = freePorts();
    start({ ...portEnv(ports), DATA_DIR: tempDir() });
    await waitFor(`http://127.0.0.1:${ports.gateway}/gateway/api/query/health`);
    await waitFor(`http://127.0.0.1:${ports.producer}/producer/api/logs/health`);
    await waitFor(`http://127.0.0.1:${ports.consumer}/actuator/health`);
    const res = await ingest(ports.producer, {
      level: "warn",
      message: "disk almost full",
      source: "e2e-embedded",
    });
    expect(res.status).toBe(200);
    const { logId } = (await res.json()) as { logId: string };
    const page = (await (
      await fetch(`http://127.0.0.1:${ports.gateway}/gateway/api/query/logs?source=e2e-embedded`)
    ).json()) as {
      content: { id: string; level: string; message: string }[];
    };
    expect(page.content.map((e) => e.id)).toEqual([logId]);
    expect(page.content[0]?.level).toBe("WARN");
  });

  it("keeps an acknowledged event across kill -9 and restart", async () => {
    const ports = freePorts();
    const dataDir = tempDir();
    const first = start({ ...portEnv(ports), DATA_DIR: dataDir });
    await waitFor(`http://127.0.0.1:${ports.producer}/producer/api/logs/health`);
    const res = await ingest(ports.producer, {
      level: "error",
      message: "acknowledged then killed",
      source: "e2e-kill",
    });
    expect(res.status).toBe(200);
    const { logId } = (await res.json()) as { logId: string };
    first.proc.kill(9);
    await first.proc.exited;

    start({ ...portEnv(ports), DATA_DIR: dataDir });
    await waitFor(`http://127.0.0.1:${ports.gateway}/gateway/api/query/health`);
    const found = await fetch(`http://127.0.0.1:${ports.gateway}/gateway/api/query/logs/${logId}`);
    expect(found.status).toBe(200);
    expect(((await found.json()) as { message: string }).message).toBe("acknowledged then killed");
  });

  it("stops cleanly on SIGTERM", async () => {
    const ports = freePorts();
    const s = start({ ...portEnv(ports), DATA_DIR: tempDir() });
    await waitFor(`http://127.0.0.1:${ports.gateway}/gateway/api/query/health`);
    s.proc.kill("SIGTERM");
    expect(await s.proc.exited).toBe(0);
  });

  it.each([
    ["GATEWAY_PORT", "abc"],
    ["POSTGRES_URL", "nonsense"],
    ["KAFKA_BOOTSTRAP_SERVERS", "no-port"],
  ])("exits with code 2 naming %s when it is invalid", async (name, value) => {
    const s = start({ [name]: value, DATA_DIR: tempDir() });
    expect(await s.proc.exited).toBe(2);
    expect(await s.stderr()).toContain(name);
  });

  it("refuses a split role without the services it needs, saying what to configure", async () => {
    for (const [role, needs] of [
      ["producer", "KAFKA_BOOTSTRAP_SERVERS"],
      ["consumer", "POSTGRES_URL"],
      ["gateway", "POSTGRES_URL"],
    ] as const) {
      const s = start({ DATA_DIR: tempDir() }, ["--role", role]);
      expect(await s.proc.exited).toBe(2);
      expect(await s.stderr()).toContain(needs);
    }
  });

  it("documents every role and environment variable in --help", async () => {
    const s = start({}, ["--help"]);
    expect(await s.proc.exited).toBe(0);
    const text = await new Response(s.proc.stdout as ReadableStream).text();
    for (const word of [
      "producer",
      "consumer",
      "gateway",
      "all",
      "POSTGRES_URL",
      "KAFKA_TOPIC",
      "REDIS_HOST",
      "DATA_DIR",
    ])
      expect(text).toContain(word);
  });
});
