// The Kafka broker stopped and started during HTTP ingest, through the producer and consumer binaries:
// every event answered 2xx is stored, the others got 503, and no request hangs.
// Stops the shared broker: in the suite it runs after every test that only needs it up.

import { afterAll, afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { Scenario } from "../helpers/faults-harness.ts";
import { ingestLoad, report } from "../helpers/faults-load.ts";
import { type LogprocProcess, services, waitUntil } from "../helpers/faults-process.ts";

setDefaultTimeout(420_000);

/** The client's bound on one request: no answer by then is a hang, and fails the test. */
const REQUEST_BOUND_MS = 10_000;
const OUTAGE_MS = 12_000;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});
// Whatever happened, the shared broker must be back for everyone else.
afterAll(async () => {
  await services("start", "kafka");
});

const statusOf = (url: string): Promise<number> =>
  fetch(url, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) }).then(
    (r) => r.status,
    () => 0,
  );

test("Kafka stopped and started under HTTP ingest: every 2xx is stored, the rest got 503, nothing hangs", async () => {
  scenario = await Scenario.create("kafkadown", 3);
  const s = scenario;
  const producer = s.start("producer", { KAFKA_SEND_TIMEOUT_MS: "1500" });
  const consumer = s.start("consumer");
  const context = () => `${producer.tail()}\n${consumer.tail()}`;
  const producerHealth = `http://127.0.0.1:${producer.ports.producer}/producer/api/logs/health`;
  const consumerHealth = `http://127.0.0.1:${consumer.ports.consumer}/actuator/health`;
  await waitUntil(
    "producer healthy",
    async () => (await statusOf(producerHealth)) === 200,
    90_000,
    250,
    context,
  );
  await s.consumerUp(consumer);

  const load = ingestLoad(producer.ports.producer, {
    concurrency: 4,
    batch: 20,
    timeoutMs: REQUEST_BOUND_MS,
    pauseMs: 20,
    prefix: "kdown",
  });
  const aliveAll = (...ps: LogprocProcess[]) => ps.every((p) => p.alive);
  let ackedAtStop = 0;
  let ackedAtStart = 0;
  let health = { producer: 0, consumer: 0 };
  let alive = true;
  try {
    await waitUntil("events acknowledged", () => load.tally.acked.length >= 2000, 60_000, 100, context);
    ackedAtStop = load.tally.acked.length;
    await services("stop", "kafka");
    const stoppedAt = Date.now();
    await waitUntil(
      "producer and consumer health DOWN",
      async () => {
        health = { producer: await statusOf(producerHealth), consumer: await statusOf(consumerHealth) };
        return health.producer === 503 && health.consumer === 503;
      },
      30_000,
      500,
    );
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      alive &&= aliveAll(producer, consumer);
      await Bun.sleep(500);
    }
  } finally {
    await services("start", "kafka");
  }
  ackedAtStart = load.tally.acked.length;
  const restartedAt = Date.now();
  await waitUntil(
    "a first event acknowledged after the restart",
    () => load.tally.acked.length > ackedAtStart,
    180_000,
    100,
    context,
  );
  const recoveryMs = Date.now() - restartedAt;
  await waitUntil(
    "events acknowledged again after the restart",
    () => load.tally.acked.length >= ackedAtStart + 2000,
    180_000,
    250,
    context,
  );
  const t = await load.stop();
  alive &&= aliveAll(producer, consumer);

  const counts = await s.drained(240_000, context);
  const ackedStored = await s.storedOf(t.acked);
  report("85 kafka outage e2e", {
    sent: t.sent,
    acknowledged: t.acked.length,
    stored: counts.rows,
    duplicates: counts.rows - counts.ids,
    rejected: t.rejected,
    ackedStored,
    storedThoughAnswered503: counts.rows - ackedStored,
    requests: t.requests,
    hangs: t.hangs,
    unexpected: t.unexpected,
    slowest503Ms: t.slowest503Ms,
    ackedBeforeOutage: ackedAtStop,
    ackedDuringOutage: ackedAtStart - ackedAtStop,
    healthDuringOutage: health,
    producerRecoveryMs: recoveryMs,
  });

  expect(t.hangs).toBe(0);
  expect(t.unexpected).toEqual({});
  expect(t.unreachable).toBe(0);
  expect(t.rejected).toBeGreaterThan(0);
  expect(health).toEqual({ producer: 503, consumer: 503 });
  expect(alive).toBe(true);
  expect(ackedStored).toBe(t.acked.length);
  expect(counts.rows).toBe(counts.ids);
  expect(counts.rows).toBeLessThanOrEqual(t.sent);
});
