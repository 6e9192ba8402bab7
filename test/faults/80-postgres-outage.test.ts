// PostgreSQL stopped mid-stream under the consumer: it stays up, says DOWN, and drains the backlog afterwards.
// Stops the shared PostgreSQL for ~30 s: in the suite it runs after every test that only needs it up.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { Scenario } from "../helpers/faults-harness.ts";
import { report } from "../helpers/faults-load.ts";
import { services, waitUntil } from "../helpers/faults-process.ts";

setDefaultTimeout(300_000);

const OUTAGE_MS = Number(process.env.FAULTS_PG_OUTAGE_MS ?? 30_000);

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

interface HealthBody {
  status: string;
  components: Record<string, { status: string; detail?: string }>;
}

test("with PostgreSQL stopped for a while the consumer keeps running, reports DOWN, then stores the whole backlog once", async () => {
  scenario = await Scenario.create("pgdown");
  const s = scenario;
  const consumer = s.start("consumer");
  await s.consumerUp(consumer);
  const health = async (): Promise<{ status: number; body: HealthBody }> => {
    const res = await fetch(`http://127.0.0.1:${consumer.ports.consumer}/actuator/health`, {
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as HealthBody };
  };

  const flow = s.stream("pgdown", 500, 250);
  await waitUntil(
    "events flowing into the store",
    async () => (await s.rows()) >= 2000,
    60_000,
    100,
    () => consumer.tail(),
  );

  let duringOutage: { status: number; body: HealthBody } | undefined;
  let aliveThroughout = true;
  let rowsBefore = 0;
  try {
    rowsBefore = await s.rows();
    await services("stop", "postgres");
    const stoppedAt = Date.now();
    await waitUntil(
      "consumer health DOWN",
      async () => {
        duringOutage = await health();
        return duringOutage.status === 503;
      },
      20_000,
      500,
    );
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      aliveThroughout &&= consumer.alive;
      await Bun.sleep(1000);
    }
    aliveThroughout &&= consumer.alive;
  } finally {
    await services("start", "postgres");
  }

  // The flow goes on a little after the restart, then stops; the backlog must drain completely.
  const restartedAt = Date.now();
  await Bun.sleep(3000);
  const sent = await flow.stop();
  const counts = await s
    .drained(120_000, () => consumer.tail())
    .catch(async (error: Error) => {
      // A stalled consumer: say what it claims about itself while it makes no progress.
      const said = await health().catch((e: unknown) => String(e));
      throw new Error(
        `${error.message}\nrows ${await s.rows()} of ${sent}; consumer health: ${JSON.stringify(said)}`,
      );
    });
  const drainMs = Date.now() - restartedAt;
  const coverage = await s.seqCoverage();
  await waitUntil("consumer health UP again", async () => (await health()).status === 200, 60_000);
  const stop = await consumer.signal("SIGTERM", 30_000);
  report("80 postgres outage", {
    sent,
    acknowledged: sent,
    stored: counts.rows,
    duplicates: counts.rows - counts.ids,
    rejected: 0,
    rowsBeforeOutage: rowsBefore,
    outageMs: OUTAGE_MS,
    drainedAfterRestartMs: drainMs,
    consumerAliveThroughout: aliveThroughout,
    healthDuringOutage: duringOutage && { http: duringOutage.status, ...duringOutage.body },
  });

  expect(aliveThroughout).toBe(true);
  expect(duringOutage?.status).toBe(503);
  expect(duringOutage?.body.status).toBe("DOWN");
  expect(duringOutage?.body.components.postgres?.status).toBe("DOWN");
  expect(counts).toEqual({ rows: sent, ids: sent });
  expect(coverage).toEqual({ seqs: sent, min: 0, max: sent - 1 });
  expect(stop?.code).toBe(0);
});
