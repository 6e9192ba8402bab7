// The producer role (compiled binary, real Kafka) against the worst bodies at each size limit: each is refused
// with a 4xx naming the limit, health keeps answering while they are read, and memory stays bounded.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { Kafka, logLevel } from "kafkajs";
import { freePorts, portEnv, type Spawned, spawnLogproc, waitFor } from "../helpers/proc.ts";
import { TEST_KAFKA_BROKERS, uniqueName } from "../helpers/services.ts";

setDefaultTimeout(240_000);

const MIB = 1024 * 1024;
const MAX_BODY = 10 * MIB;
const NDJSON = { "content-type": "application/x-ndjson" };
const JSON_TYPE = { "content-type": "application/json" };

const topic = uniqueName("hostile_bodies");
const ports = freePorts();
const base = `http://127.0.0.1:${ports.producer}/producer/api/logs`;
let producer: Spawned;

beforeAll(async () => {
  producer = spawnLogproc(["--role", "producer"], {
    ...portEnv(ports),
    KAFKA_BOOTSTRAP_SERVERS: TEST_KAFKA_BROKERS.join(","),
    KAFKA_TOPIC: topic,
    KAFKA_PARTITIONS: "1",
  });
  await waitFor(`${base}/health`, 60_000);
});

afterAll(async () => {
  producer.proc.kill("SIGTERM");
  await producer.proc.exited;
  const admin = new Kafka({
    clientId: "hostile-bodies",
    brokers: TEST_KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => {});
  await admin.disconnect();
});

const memory = (field: "VmRSS" | "VmHWM"): number => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
    readFileSync(`/proc/${producer.proc.pid}/status`, "utf8"),
  );
  return Number(m?.[1] ?? Number.NaN) * 1024;
};

const post = (body: string | Uint8Array, headers: Record<string, string>, path = "/batch") =>
  fetch(`${base}${path}`, { method: "POST", headers, body });

// biome-ignore lint/suspicious/noExplicitAny: assertions walk the JSON answers
const answer = async (res: Response): Promise<{ status: number; body: any }> => ({
  status: res.status,
  body: await res.json(),
});

/** The worst body at the 10 MiB limit for each way in: millions of items, or a bomb that expands past it. */
const worstBodies = (): {
  name: string;
  body: string | Uint8Array;
  headers: Record<string, string>;
  limit: string;
}[] => [
  {
    name: "NDJSON of 5M malformed lines",
    body: "x\n".repeat(MAX_BODY / 2),
    headers: NDJSON,
    limit: "MAX_BATCH_EVENTS",
  },
  {
    name: "JSON array of 5M zeros",
    body: `[${"0,".repeat(MAX_BODY / 2 - 2)}0]`,
    headers: JSON_TYPE,
    limit: "MAX_BATCH_EVENTS",
  },
  {
    name: "JSON array of 3.5M empty objects",
    body: `[${"{},".repeat(Math.floor(MAX_BODY / 3) - 1)}{}]`,
    headers: JSON_TYPE,
    limit: "MAX_BATCH_EVENTS",
  },
  {
    name: "gzip bomb of 64 MiB of NDJSON",
    body: gzipSync(Buffer.from("x\n".repeat(32 * MIB)), { level: 9 }),
    headers: { ...NDJSON, "content-encoding": "gzip" },
    limit: "MAX_BODY_BYTES",
  },
];

describe("the worst bodies at the size limits", () => {
  test("four at once: each 413 naming its limit, health answered meanwhile, memory bounded", async () => {
    const bodies = worstBodies();
    const rssBefore = memory("VmRSS");
    const hwmBefore = memory("VmHWM");
    let pending = bodies.length;
    let healthDuringAttack = 0;
    const polling = (async () => {
      while (pending > 0) {
        const res = await fetch(`${base}/health`);
        await res.arrayBuffer();
        // Counted only while every refusal is still on its way: the loop served health mid-attack.
        if (pending === bodies.length && res.status === 200) healthDuringAttack++;
        await Bun.sleep(20);
      }
    })();
    const answers = await Promise.all(
      bodies.map(async (b) => {
        const a = await answer(await post(b.body, b.headers));
        pending--;
        return { ...b, ...a };
      }),
    );
    await polling;
    for (const a of answers) {
      expect({ name: a.name, status: a.status }).toEqual({ name: a.name, status: 413 });
      expect(a.body.error).toBe("payload_too_large");
      expect(a.body.message).toContain(a.limit);
    }
    expect(healthDuringAttack).toBeGreaterThan(0);
    // Before bodies were counted first, one of these alone took 2.7 GB; four at once, 3.9 GB.
    const peak = Math.max(memory("VmHWM"), hwmBefore);
    expect((peak - rssBefore) / MIB).toBeLessThan(500);
  });

  test("a batch at MAX_BATCH_EVENTS of malformed lines reports the first 100 errors and counts all", async () => {
    const { status, body } = await answer(await post("x\n".repeat(10_000), NDJSON));
    expect(status).toBe(200);
    expect(body).toMatchObject({ totalEvents: 10_000, successCount: 0, failureCount: 10_000 });
    expect(body.errors).toHaveLength(100);
    expect(body.errors.map((e: { index: number }) => e.index)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
    expect(body.errors[99].message).toStartWith("line 100 is not valid JSON");
  });

  test("one event past MAX_BATCH_EVENTS is 413 naming the limit", async () => {
    const event = JSON.stringify({ level: "INFO", message: "m", source: "s" });
    const { status, body } = await answer(await post(`${event}\n`.repeat(10_001), NDJSON));
    expect(status).toBe(413);
    expect(body.message).toBe("a batch holds at most 10000 events (MAX_BATCH_EVENTS); this one has more");
  });

  test("a body past MAX_BODY_BYTES and an event past MAX_EVENT_BYTES are 413 naming them", async () => {
    const big = await answer(await post("x".repeat(MAX_BODY + 1), NDJSON));
    expect(big.status).toBe(413);
    const event = JSON.stringify({ level: "INFO", message: "m", source: "s", pad: "p".repeat(300_000) });
    const one = await answer(await post(event, JSON_TYPE, "/ingest"));
    expect(one).toEqual({
      status: 413,
      body: expect.objectContaining({ message: expect.stringContaining("MAX_EVENT_BYTES") }),
    });
    const batch = await answer(
      await post(`[${JSON.stringify({ level: "INFO", message: "m", source: "s" })},${event}]`, JSON_TYPE),
    );
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ totalEvents: 2, successCount: 1, failureCount: 1 });
    expect(batch.body.errors).toEqual([
      { index: 1, field: "body", message: "item 1 is larger than 262144 bytes (MAX_EVENT_BYTES)" },
    ]);
  });
});

describe("the largest valid bodies", () => {
  test("four valid batches at the body limit at once are all accepted: a large publish is not a failing bus", async () => {
    // ~10,000 events of ~1 KB each, just under 10 MiB: about a dozen produce requests per batch.
    const batch = (seed: number): string => {
      const events: string[] = [];
      let size = 2;
      for (let i = 0; events.length < 10_000; i++) {
        const e = JSON.stringify({
          level: "INFO",
          message: `large valid batch ${seed}-${i} ${"lorem ipsum ".repeat(75)}`,
          source: `svc-${i % 20}`,
        });
        if (size + e.length + 1 > MAX_BODY) break;
        events.push(e);
        size += e.length + 1;
      }
      return `[${events.join(",")}]`;
    };
    const bodies = [0, 1, 2, 3].map(batch);
    const answers = await Promise.all(bodies.map(async (b) => answer(await post(b, JSON_TYPE))));
    for (const [i, a] of answers.entries()) {
      const sent = JSON.parse(bodies[i] ?? "[]").length;
      expect({ i, status: a.status, message: a.body.message }).toEqual({
        i,
        status: 200,
        message: undefined,
      });
      expect({ i, successCount: a.body.successCount }).toEqual({ i, successCount: sent });
    }
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
  });
});
