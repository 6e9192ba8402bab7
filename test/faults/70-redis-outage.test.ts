// Redis stopped under the gateway: every query is still answered 200, with the same answer, from PostgreSQL.
// The gateway's Redis is a private redis-server run by scripts/services.sh on a free port and state dir of
// its own, so stopping it disturbs no other test that uses the shared Redis on 6379.

import { afterAll, afterEach, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { makeEvents } from "../helpers/faults-events.ts";
import { Scenario } from "../helpers/faults-harness.ts";
import { report } from "../helpers/faults-load.ts";
import { services, waitUntil } from "../helpers/faults-process.ts";
import { freePort, tempDir } from "../helpers/proc.ts";

setDefaultTimeout(180_000);

const Q = "/gateway/api/query";
const redisPort = freePort();
const redisEnv = { LOGPROC_REDIS_PORT: String(redisPort), LOGPROC_STATE: tempDir("logproc-faults-redis-") };

beforeAll(async () => {
  await services("start", "redis", redisEnv);
});
afterAll(async () => {
  await services("stop", "redis", redisEnv);
  rmSync(redisEnv.LOGPROC_STATE, { recursive: true, force: true });
});

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

const redisKeys = async (): Promise<number> => {
  const proc = Bun.spawn(["redis-cli", "-p", String(redisPort), "dbsize"], {
    stdout: "pipe",
    stderr: "ignore",
  });
  const out = await new Response(proc.stdout).text();
  return (await proc.exited) === 0 ? Number(out.trim()) : -1;
};

test("with Redis stopped every gateway query is answered 200 with the answer it had while Redis was up", async () => {
  scenario = await Scenario.create("redis", 3);
  const s = scenario;
  const events = makeEvents(3000, "redis", 6);
  await s.produce(events);
  const consumer = s.start("consumer");
  const stored = await s.drained(120_000, () => consumer.tail());
  // Nothing changes in the store from here on: every answer is a pure function of its query.
  await consumer.signal("SIGTERM", 30_000);

  const gateway = s.start("gateway", { REDIS_HOST: "127.0.0.1", REDIS_PORT: String(redisPort) });
  const base = `http://127.0.0.1:${gateway.ports.gateway}`;
  await waitUntil(
    "gateway healthy",
    async () => (await fetch(`${base}${Q}/health`)).ok,
    60_000,
    250,
    () => gateway.tail(),
  );
  const paths = [
    `${Q}/logs?limit=50`,
    `${Q}/logs?source=redis-src-1&limit=100`,
    `${Q}/logs?level=ERROR&limit=100`,
    `${Q}/search?q=word7`,
    `${Q}/stats`,
    `${Q}/logs/${events[42]?.id}`,
  ];
  const ask = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json()) as Record<string, unknown>;
    // Stats cover "the last 24 h up to now": the window and its buckets move with the clock, the counts must not.
    if (path.startsWith(`${Q}/stats`)) {
      const histogram = (body.histogram ?? []) as { count: number }[];
      const { totalLogs, levelCounts, sourceCounts } = body;
      const histogramTotal = histogram.reduce((sum, b) => sum + b.count, 0);
      return { status: res.status, body: { totalLogs, levelCounts, sourceCounts, histogramTotal } };
    }
    return { status: res.status, body };
  };
  const reference = new Map<string, unknown>();
  for (const path of paths) {
    const first = await ask(path);
    expect({ path, status: first.status }).toEqual({ path, status: 200 });
    reference.set(path, first.body);
  }
  const keysWhileUp = await redisKeys();

  let asked = 0;
  let answered = 0;
  const round = async (): Promise<void> => {
    for (const path of paths) {
      asked++;
      const { status, body } = await ask(path);
      expect({ path, status }).toEqual({ path, status: 200 });
      expect(body).toEqual(reference.get(path));
      answered++;
    }
  };
  await round(); // from the cache, Redis up

  let cacheDown = false;
  try {
    await services("stop", "redis", redisEnv);
    // Right after the stop (connection lost, circuit still closed), then past the in-process L1's lifetime.
    for (let i = 0; i < 5; i++) {
      await round();
      await Bun.sleep(1200);
    }
    const health = await fetch(`${base}${Q}/health`);
    const body = (await health.json()) as { components: { cache: { status: string } } };
    cacheDown = health.status === 200 && body.components.cache.status === "unhealthy";
  } finally {
    await services("start", "redis", redisEnv);
  }
  // The circuit closes after a successful trial call, which only a query makes: keep asking meanwhile.
  await waitUntil("the cache in use again", async () => {
    await ask(paths[0] ?? "");
    const body = (await (await fetch(`${base}${Q}/health`)).json()) as {
      components: { cache: { status: string } };
    };
    return body.components.cache.status === "healthy" && (await redisKeys()) > 0;
  });
  await round();
  report("70 redis outage", {
    sent: events.length,
    acknowledged: events.length,
    stored: stored.rows,
    duplicates: stored.rows - stored.ids,
    rejected: 0,
    queriesAsked: asked,
    queriesAnswered200: answered,
    redisKeysWhileUp: keysWhileUp,
  });

  expect(stored).toEqual({ rows: 3000, ids: 3000 });
  expect(keysWhileUp).toBeGreaterThan(0); // the answers were cached in Redis before the outage
  expect(cacheDown).toBe(true); // health says the cache is down, and still answers 200
  expect(gateway.alive).toBe(true);
});
