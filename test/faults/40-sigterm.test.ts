// SIGTERM to each role under load: every process exits 0 within a bound, and nothing acknowledged is lost.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { Scenario } from "../helpers/faults-harness.ts";
import { ingestLoad, queryLoad, report } from "../helpers/faults-load.ts";
import { type LogprocProcess, waitUntil } from "../helpers/faults-process.ts";

setDefaultTimeout(240_000);

/** Not a latency assertion: a process still running after this has hung in its shutdown. */
const EXIT_BOUND_MS = 30_000;
const Q = "/gateway/api/query";

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

const healthy = (p: LogprocProcess, url: string) =>
  waitUntil(
    `${p.name} healthy`,
    async () => (await fetch(url)).ok,
    90_000,
    250,
    () => p.tail(),
  );

test("producer, consumer and gateway each stop on SIGTERM under load with code 0; every acknowledged event is stored", async () => {
  scenario = await Scenario.create("sigterm");
  const s = scenario;
  const producer = s.start("producer");
  let consumer = s.start("consumer");
  const gateway = s.start("gateway");
  await healthy(producer, `http://127.0.0.1:${producer.ports.producer}/producer/api/logs/health`);
  await s.consumerUp(consumer);
  await healthy(gateway, `http://127.0.0.1:${gateway.ports.gateway}${Q}/health`);

  const ingest = ingestLoad(producer.ports.producer, { concurrency: 3, batch: 50, prefix: "term" });
  const queries = queryLoad(gateway.ports.gateway, [
    `${Q}/logs?limit=20`,
    `${Q}/stats`,
    `${Q}/search?q=client`,
    `${Q}/logs?source=term-1&limit=50`,
  ]);
  // A live tail stays open: shutdown must end it rather than wait for it.
  const tail = await fetch(`http://127.0.0.1:${gateway.ports.gateway}${Q}/tail`);
  expect(tail.status).toBe(200);
  const tailEnded = tail.text().then(
    () => "ended",
    () => "ended",
  );
  await waitUntil("events flowing into the store", async () => (await s.rows()) > 500, 60_000);

  const exits: Record<string, { code: number; ms: number } | undefined> = {};
  exits.consumer = await consumer.signal("SIGTERM", EXIT_BOUND_MS);
  consumer = s.start("consumer");
  await Bun.sleep(2000);
  exits.gateway = await gateway.signal("SIGTERM", EXIT_BOUND_MS);
  const tailOutcome = await Promise.race([tailEnded, Bun.sleep(10_000).then(() => "still open")]);
  const q = await queries.stop();
  exits.producer = await producer.signal("SIGTERM", EXIT_BOUND_MS);
  const t = await ingest.stop();

  const replacement = consumer;
  const counts = await s.drained(120_000, () => replacement.tail());
  const ackedStored = await s.storedOf(t.acked);
  exits.consumerAfterDrain = await replacement.signal("SIGTERM", EXIT_BOUND_MS);
  report("40 sigterm", {
    sent: t.sent,
    acknowledged: t.acked.length,
    stored: counts.rows,
    duplicates: counts.rows - counts.ids,
    rejected: t.rejected,
    unreachableAfterStop: t.unreachable,
    ackedStored,
    queries: q,
    exits,
  });

  for (const [role, exit] of Object.entries(exits))
    expect({ role, code: exit?.code }).toEqual({ role, code: 0 });
  expect(tailOutcome).toBe("ended");
  expect(t.hangs).toBe(0);
  expect(t.unexpected).toEqual({});
  expect(q.hangs).toBe(0);
  expect(q.unexpected).toEqual({});
  expect(t.acked.length).toBeGreaterThan(0);
  expect(ackedStored).toBe(t.acked.length);
  expect(counts.rows).toBe(counts.ids);
  // Nothing stored that was not sent (a request cut short by the stop may still have been stored).
  expect(counts.rows).toBeLessThanOrEqual(t.sent);
});
