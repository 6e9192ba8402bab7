// A real Redis outage under the gateway: Redis stopped, slowed and restarted while queries keep being answered.
// It runs its own redis-server (scripts/services.sh on a private port and state dir), so stopping it
// disturbs no other test that uses the shared Redis.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { silentLogger } from "../../src/observability/logger.ts";
import { createCache } from "../../src/roles/adapters.ts";
import { freePort } from "../helpers/proc.ts";
import { uniqueName } from "../helpers/services.ts";
import { createGatewayFixture, eventually, type GatewayFixture } from "./gateway-fixture.ts";

const SCRIPT = join(import.meta.dir, "../../scripts/services.sh");
const stateDir = mkdtempSync(join(tmpdir(), "logproc-redis-outage-"));
let port = 0;

const services = async (action: "start" | "stop"): Promise<void> => {
  const proc = Bun.spawn(["bash", SCRIPT, action, "redis"], {
    env: { ...process.env, LOGPROC_REDIS_PORT: String(port), LOGPROC_STATE: stateDir },
    stdout: "ignore",
    stderr: "pipe",
  });
  const code = await proc.exited;
  if (code !== 0)
    throw new Error(`services.sh ${action} redis failed: ${await new Response(proc.stderr).text()}`);
};

let f: GatewayFixture;
let admin: Redis;
const keyPrefix = `${uniqueName("outage")}:`;

beforeAll(async () => {
  port = freePort();
  await services("start");
  admin = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1 });
  admin.on("error", () => {}); // it sees the outage too; its commands report it
  f = await createGatewayFixture({
    env: { REDIS_HOST: "127.0.0.1", REDIS_PORT: String(port) },
    cache: (config, metrics) => createCache(config, metrics, silentLogger, { keyPrefix }),
  });
});

afterAll(async () => {
  try {
    await f?.close();
    admin?.disconnect();
  } finally {
    await services("stop");
    rmSync(stateDir, { recursive: true, force: true });
  }
});

const count = (result: string) => f.counter("cache_requests_total", { result });
const ids = async (path: string): Promise<string[]> => {
  const r = await f.get(path);
  expect(r.status).toBe(200);
  return r.body.content.map((e: { id: string }) => e.id);
};

test("queries keep their answers through Redis stopping, hanging and coming back", async () => {
  try {
    // Up: answers are shared through Redis.
    await f.write({ id: "before" });
    expect(await ids("logs")).toEqual(["before"]);
    expect((await admin.keys(`${keyPrefix}*`)).length).toBeGreaterThan(0);

    // Stopped: every query is answered from the store, and stays fresh.
    await services("stop");
    const bypassBefore = await count("bypass");
    for (let i = 0; i < 10; i++)
      for (const path of ["logs", "stats", "search?query=message"])
        expect((await f.get(path)).status).toBe(200);
    expect(await count("bypass")).toBeGreaterThan(bypassBefore);
    expect(await f.counter("circuit_breaker_state", { name: "redis" })).toBe(2);
    await f.write({ id: "during" });
    expect(await eventually(async () => (await ids("logs")).includes("during"))).toBe(true);

    // Back: the breaker closes again and answers go to Redis again.
    await services("start");
    await admin.flushall();
    const back = await eventually(
      async () => {
        await f.get("logs?size=3");
        return (
          (await f.counter("circuit_breaker_state", { name: "redis" })) === 0 &&
          (await admin.keys(`${keyPrefix}*`)).length > 0
        );
      },
      30_000,
      200,
    );
    expect(back).toBe(true);

    // Hanging: a paused Redis costs at most the command timeout, then the breaker opens; no error reaches clients.
    await admin.call("CLIENT", "PAUSE", "3000", "ALL");
    const bypassPaused = await count("bypass");
    await f.write({ id: "paused" });
    for (let i = 0; i < 6; i++) expect((await f.get(`logs?size=${10 + i}`)).status).toBe(200);
    expect(await count("bypass")).toBeGreaterThan(bypassPaused);
    expect(await eventually(async () => (await ids("logs")).includes("paused"))).toBe(true);
  } finally {
    // Whatever failed above, leave the private Redis running for afterAll to stop cleanly.
    await services("start");
  }
}, 90_000);

test("the cache's health comes back by itself once Redis is back, with no query to try it", async () => {
  const cacheStatus = async () => (await f.get("health")).body.components.cache.status as string;
  try {
    await services("stop");
    for (let i = 0; i < 5; i++) expect((await f.get(`logs?size=${20 + i}`)).status).toBe(200);
    expect(await f.counter("circuit_breaker_state", { name: "redis" })).toBe(2);
    expect(await cacheStatus()).toBe("unhealthy");
    await services("start");
    // Only health checks from here on: they are the breaker's trial calls.
    expect(await eventually(async () => (await cacheStatus()) === "healthy", 30_000, 300)).toBe(true);
    expect(await f.counter("circuit_breaker_state", { name: "redis" })).toBe(0);
  } finally {
    await services("start");
  }
}, 90_000);
