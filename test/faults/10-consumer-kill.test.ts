// The consumer killed with kill -9 again and again while events flow: every event stored exactly once.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { makeEvents } from "../helpers/faults-events.ts";
import { Scenario } from "../helpers/faults-harness.ts";
import { report } from "../helpers/faults-load.ts";
import { waitUntil } from "../helpers/faults-process.ts";

// Each restart waits for the killed member's Kafka session (30 s) to expire before the group rebalances.
setDefaultTimeout(420_000);

const N = Number(process.env.FAULTS_KILL_EVENTS ?? 200_000);
const KILLS = Number(process.env.FAULTS_KILLS ?? 4);

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

test(`a consumer killed -9 ${KILLS} times while ${N} events flow stores each of them exactly once`, async () => {
  scenario = await Scenario.create("kill");
  const s = scenario;
  const events = makeEvents(N, "kill");
  // The events flow into the topic while the first consumer starts and runs.
  const producing = s.produce(events);

  // Random moments spread over the flow: each kill comes after a random share of the events was stored,
  // plus a random few ms, so it lands mid-COPY, between the PostgreSQL and the Kafka commit, or between batches.
  const thresholds = Array.from({ length: KILLS }, (_, k) =>
    Math.floor(N * (0.05 + ((k + Math.random()) * 0.85) / KILLS)),
  );
  let consumer = s.start("consumer");
  const rowsAtKill: number[] = [];
  for (const threshold of thresholds) {
    const current = consumer;
    // And past what the previous instance stored: every instance is killed while it is storing.
    const past = Math.min(N, Math.max(threshold, (rowsAtKill.at(-1) ?? 0) + 1));
    await waitUntil(
      `${past} rows stored`,
      async () => (await s.rows()) >= past,
      150_000,
      50,
      () => current.tail(),
    );
    await Bun.sleep(Math.random() * 400);
    expect(current.alive).toBe(true); // it never exits by itself
    await current.kill9();
    rowsAtKill.push(await s.rows());
    consumer = s.start("consumer");
  }
  await producing;

  const final = consumer;
  const counts = await s.drained(240_000, () => final.tail());
  const coverage = await s.seqCoverage();
  const stop = await final.signal("SIGTERM", 30_000);
  report("10 consumer kill -9", {
    sent: N,
    acknowledged: N,
    stored: counts.rows,
    duplicates: counts.rows - counts.ids,
    rejected: 0,
    kills: KILLS,
    rowsAtKill,
  });

  expect(counts).toEqual({ rows: N, ids: N });
  expect(coverage).toEqual({ seqs: N, min: 0, max: N - 1 });
  expect(stop?.code).toBe(0);
});
