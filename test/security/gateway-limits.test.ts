// The gateway's limits on the compiled binary: live-tail slots per client (key, else address) and in total, and
// the RATE_LIMIT_* settings on the query routes, each refusal a 429 JSON with Retry-After; closing frees slots.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import {
  BINARY,
  freePorts,
  type Ports,
  portEnv,
  type Spawned,
  spawnLogproc,
  tempDir,
  waitFor,
} from "../helpers/proc.ts";
import { openSse } from "../helpers/sse.ts";

setDefaultTimeout(90_000);

const API = "/gateway/api/query";
const running: Spawned[] = [];
const dirs: string[] = [];

const start = async (env: Record<string, string>): Promise<Ports> => {
  const ports = freePorts();
  const dataDir = tempDir();
  dirs.push(dataDir);
  running.push(spawnLogproc(["--role", "all"], { ...portEnv(ports), DATA_DIR: dataDir, ...env }, [BINARY]));
  await waitFor(`http://127.0.0.1:${ports.gateway}${API}/health`);
  return ports;
};

afterAll(async () => {
  for (const s of running.splice(0)) {
    s.proc.kill("SIGTERM");
    await s.proc.exited;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A live tail that must be accepted: open until closed. */
const tail = async (port: number, headers: Record<string, string> = {}) => {
  const sse = await openSse(`http://127.0.0.1:${port}${API}/tail`, headers);
  expect(sse.res.status).toBe(200);
  return sse;
};

/** A request that must be refused with 429 JSON and Retry-After; its message. */
const refused = async (url: string, headers: Record<string, string> = {}): Promise<string> => {
  const res = await fetch(url, { headers });
  expect(res.status).toBe(429);
  expect(res.headers.get("content-type")).toContain("application/json");
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  const body = (await res.json()) as { error: string; message: string };
  expect(body.error).toBe("rate_limited");
  return body.message;
};

describe("logproc --role all with API keys: slots per key and in total", () => {
  let ports: Ports;
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  beforeAll(async () => {
    ports = await start({
      QUERY_API_KEYS: "key-a,key-b",
      MAX_TAIL_STREAMS: "3",
      MAX_TAIL_STREAMS_PER_CLIENT: "2",
    });
  });

  test("a key past its own bound, then everyone past the total, get 429; closing a stream frees its slot", async () => {
    const url = `http://127.0.0.1:${ports.gateway}${API}/tail`;
    const a = [await tail(ports.gateway, as("key-a")), await tail(ports.gateway, as("key-a"))];
    expect(await refused(url, as("key-a"))).toContain("MAX_TAIL_STREAMS_PER_CLIENT=2");
    const b = await tail(ports.gateway, as("key-b"));
    expect(await refused(url, as("key-b"))).toContain("MAX_TAIL_STREAMS=3");
    await a[0]?.close();
    let again: Awaited<ReturnType<typeof tail>> | undefined;
    for (const until = Date.now() + 5000; !again && Date.now() < until; await Bun.sleep(50)) {
      const sse = await openSse(url, as("key-b"));
      if (sse.res.status === 200) again = sse;
      else await sse.close();
    }
    expect(again?.res.status).toBe(200);
    for (const s of [a[1], b, again]) await s?.close();
  });
});

describe("logproc --role all without keys: the client is its address", () => {
  let ports: Ports;
  beforeAll(async () => {
    ports = await start({ MAX_TAIL_STREAMS_PER_CLIENT: "2", RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "10" });
  });

  test("tails past the per-address bound, then queries past the rate limit, are refused with 429", async () => {
    const base = `http://127.0.0.1:${ports.gateway}${API}`;
    const open = [await tail(ports.gateway), await tail(ports.gateway)];
    expect(await refused(`${base}/tail`)).toContain("MAX_TAIL_STREAMS_PER_CLIENT=2");
    for (const s of open) await s.close();
    // Two tails and one refusal took three tokens of ten; the same listing, cached after its first answer.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await fetch(`${base}/logs?size=5`)).status);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(8);
    expect(statuses.at(-1)).toBe(429);
    expect(await refused(`${base}/logs?size=5`)).toContain("rate limit exceeded");
    // Health is never limited.
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
