// Events stored once and sent again (same ids, other timestamps; via Kafka and via the producer) add nothing.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { makeEvents } from "../helpers/faults-events.ts";
import { Scenario } from "../helpers/faults-harness.ts";
import { report } from "../helpers/faults-load.ts";
import { waitUntil } from "../helpers/faults-process.ts";

setDefaultTimeout(180_000);

const N = 1000;
const HOUR = 3_600_000;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

const metric = async (port: number, name: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").pop()) : 0;
};

test("1k already stored events resent with the same ids and other timestamps add no row and no count", async () => {
  scenario = await Scenario.create("resend", 3);
  const s = scenario;
  const events = makeEvents(N, "resend");
  await s.produce(events);
  const consumer = s.start("consumer");
  const producer = s.start("producer");
  const first = await s.drained(120_000, () => consumer.tail());
  expect(first).toEqual({ rows: N, ids: N });
  const span = await s.sql<{ min: Date; max: Date; total: string }[]>`
    select min(ts) as min, max(ts) as max, (select sum(count) from log_rollup_minute) as total from log_events`;

  // Again through Kafka, two hours earlier and with another message...
  await s.produce(
    events.map((e) => ({ ...e, timestamp: e.timestamp - 2 * HOUR, message: `${e.message} again` })),
  );
  // ...and again through the producer's HTTP batch API, a day later (another daily partition).
  await waitUntil(
    "producer healthy",
    async () => (await fetch(`http://127.0.0.1:${producer.ports.producer}/producer/api/logs/health`)).ok,
    60_000,
    250,
    () => producer.tail(),
  );
  const res = await fetch(`http://127.0.0.1:${producer.ports.producer}/producer/api/logs/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(
      events.map((e) => ({
        id: e.id,
        level: e.level,
        message: e.message,
        source: e.source,
        timestamp: e.timestamp + 24 * HOUR,
        metadata: e.metadata,
      })),
    ),
    signal: AbortSignal.timeout(10_000),
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { successCount: number }).successCount).toBe(N);

  const after = await s.drained(120_000, () => consumer.tail());
  const spanAfter = await s.sql<{ min: Date; max: Date; total: string }[]>`
    select min(ts) as min, max(ts) as max, (select sum(count) from log_rollup_minute) as total from log_events`;
  const changed = await s.sql<{ n: number }[]>`
    select count(*)::int as n from log_events where message like '%again'`;
  const duplicatesSeen = await metric(consumer.ports.consumer, "log_events_duplicate_total");
  report("20 resend duplicates", {
    sent: 3 * N,
    acknowledged: 3 * N,
    stored: after.rows,
    duplicates: after.rows - after.ids,
    rejected: 0,
    duplicatesDroppedByConsumer: duplicatesSeen,
  });

  expect(after).toEqual({ rows: N, ids: N });
  // The first write wins: timestamps, messages and the rollup counts are those of the original events.
  expect(spanAfter).toEqual(span);
  expect(Number(spanAfter[0]?.total)).toBe(N);
  expect(changed[0]?.n).toBe(0);
  expect(duplicatesSeen).toBe(2 * N);
});
