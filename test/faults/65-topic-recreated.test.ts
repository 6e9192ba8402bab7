// A topic deleted and created again counts its offsets from 0 while the store still holds the old
// incarnation's: the new events must be stored, not skipped as "already consumed".

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { makeEvents } from "../helpers/faults-events.ts";
import { Scenario } from "../helpers/faults-harness.ts";
import { type LogprocProcess, waitUntil } from "../helpers/faults-process.ts";

setDefaultTimeout(300_000);

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

/** Waits until every one of these events is stored, naming how many are when it gives up. */
const allStored = async (s: Scenario, events: LogEvent[], consumer: LogprocProcess): Promise<number> => {
  const ids = events.map((e) => e.id);
  let stored = 0;
  await waitUntil(
    `all ${ids.length} events stored`,
    async () => {
      stored = await s.storedOf(ids);
      return stored === ids.length;
    },
    90_000,
    500,
    () => `${stored} of ${ids.length} stored\n${consumer.tail()}`,
  );
  return stored;
};

test("events on a topic created again are stored, whether it holds fewer records than the store's offsets or more", async () => {
  scenario = await Scenario.create("recreate", 2);
  const s = scenario;
  const before = makeEvents(4000, "before", 8);
  await s.produce(before);
  let consumer = s.start("consumer");
  await allStored(s, before, consumer);
  expect(await consumer.signal("SIGTERM", 30_000)).toMatchObject({ code: 0 });

  /** The topic created again with `n` new events, then a consumer started on it: returns it once all are stored. */
  const recreatedWith = async (n: number, prefix: string): Promise<LogprocProcess> => {
    await s.recreateTopic();
    const events = makeEvents(n, prefix, 8);
    await s.produce(events);
    const started = s.start("consumer");
    expect(await allStored(s, events, started)).toBe(n);
    return started;
  };

  // Fewer records than the offsets the store holds (about 2,000 per partition): a wiped broker, say.
  consumer = await recreatedWith(600, "fewer");
  expect(await consumer.signal("SIGTERM", 30_000)).toMatchObject({ code: 0 });

  // More records than the store's offsets (now about 300 per partition) before the consumer comes back.
  consumer = await recreatedWith(3000, "more");

  // And while it runs: the topic goes away and comes back under the running consumer.
  await s.recreateTopic();
  const live = makeEvents(2000, "live", 8);
  await s.produce(live);
  expect(await allStored(s, live, consumer)).toBe(live.length);

  const counts = await s.counts();
  const total = before.length + 600 + 3000 + live.length;
  expect(counts).toEqual({ rows: total, ids: total });
});
