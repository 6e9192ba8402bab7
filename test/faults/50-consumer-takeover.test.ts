// Two consumers in one group, one killed -9: the other takes over its partitions; nothing lost or doubled.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { makeEvents } from "../helpers/faults-events.ts";
import { Scenario } from "../helpers/faults-harness.ts";
import { report } from "../helpers/faults-load.ts";
import { type LogprocProcess, waitUntil } from "../helpers/faults-process.ts";

// The survivor gets the partitions once the killed member's Kafka session (KAFKA_SESSION_TIMEOUT_MS) has expired.
setDefaultTimeout(240_000);

const PARTITIONS = 6;
const BEFORE = 40_000;
const AFTER = 20_000;
/** Sources are the Kafka keys: enough of them to reach every partition. */
const SOURCES = 24;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

/** The partitions a consumer's health says it holds ("group g, partitions [0,2,4]"). */
const partitionsOf = async (p: LogprocProcess): Promise<number[]> => {
  const res = await fetch(`http://127.0.0.1:${p.ports.consumer}/actuator/health`);
  const body = (await res.json()) as { components?: { kafka?: { detail?: string } } };
  const list = /partitions \[([\d,]*)\]/.exec(body.components?.kafka?.detail ?? "")?.[1] ?? "";
  return list ? list.split(",").map(Number) : [];
};

test("when one of two consumers is killed -9 the other takes over all partitions and stores everything once", async () => {
  scenario = await Scenario.create("takeover", PARTITIONS);
  const s = scenario;
  const a = s.start("consumer");
  const b = s.start("consumer");
  const context = () => `${a.tail()}\n${b.tail()}`;
  await s.consumerUp(a);
  await s.consumerUp(b);
  await waitUntil(
    "both consumers holding partitions",
    async () => (await partitionsOf(a)).length > 0 && (await partitionsOf(b)).length > 0,
    90_000,
    250,
    context,
  );
  const heldByA = await partitionsOf(a);

  const first = makeEvents(BEFORE, "takeover", SOURCES);
  const producing = s.produce(first);
  await waitUntil("events flowing", async () => (await s.rows()) >= BEFORE / 4, 60_000, 50, context);
  await a.kill9();
  const rowsAtKill = await s.rows();
  await producing;
  // More events after the kill, some of them to A's former partitions.
  await s.produce(makeEvents(AFTER, "takeover", SOURCES, BEFORE));

  await waitUntil(
    "the survivor holding every partition",
    async () => (await partitionsOf(b)).length === PARTITIONS,
    120_000,
    500,
    () => b.tail(),
  );
  const counts = await s.drained(120_000, () => b.tail());
  const coverage = await s.seqCoverage();
  report("50 consumer takeover", {
    sent: BEFORE + AFTER,
    acknowledged: BEFORE + AFTER,
    stored: counts.rows,
    duplicates: counts.rows - counts.ids,
    rejected: 0,
    heldByKilled: heldByA,
    rowsAtKill,
  });

  expect(b.alive).toBe(true);
  expect(counts).toEqual({ rows: BEFORE + AFTER, ids: BEFORE + AFTER });
  expect(coverage).toEqual({ seqs: BEFORE + AFTER, min: 0, max: BEFORE + AFTER - 1 });
  expect((await partitionsOf(b)).sort()).toEqual([0, 1, 2, 3, 4, 5]);
});
