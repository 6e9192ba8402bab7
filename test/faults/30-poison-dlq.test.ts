// Poison messages written straight into the topic go to <topic>.dlq with their origin; the partition keeps flowing.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { encodeEvent } from "../../src/domain/wire.ts";
import { readTopic } from "../contract/kafka-fixture.ts";
import { makeEvents } from "../helpers/faults-events.ts";
import { Scenario } from "../helpers/faults-harness.ts";
import { report } from "../helpers/faults-load.ts";

setDefaultTimeout(180_000);

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

test("raw non-JSON bytes and a JSON message off the wire schema are dead-lettered; later events of the partition are stored", async () => {
  scenario = await Scenario.create("poison", 3);
  const s = scenario;
  const before = makeEvents(10, "before");
  const after = makeEvents(10, "after");
  const notJson = Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22, 0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e]);
  const offSchema = JSON.stringify({ v: 1, id: "poison-1", level: "LOUD", message: "", source: "x", ts: -5 });
  // All on partition 0, in this order: good events, the two poison messages, good events after them.
  const offsets = await s.produceRaw(0, [
    ...before.map((e) => encodeEvent(e)),
    notJson,
    offSchema,
    ...after.map((e) => encodeEvent(e)),
  ]);
  const poisonOffsets = offsets.slice(before.length, before.length + 2);

  const consumer = s.start("consumer");
  const counts = await s.drained(120_000, () => consumer.tail());
  const letters = await readTopic(dlqTopicOf(s.topic), 2, 60_000);
  const afterStored = await s.storedOf(after.map((e) => e.id));
  report("30 poison dlq", {
    sent: 22,
    acknowledged: 22,
    stored: counts.rows,
    duplicates: counts.rows - counts.ids,
    rejected: letters.length,
  });

  expect(counts).toEqual({ rows: 20, ids: 20 });
  expect(afterStored).toBe(10);
  expect(consumer.alive).toBe(true);
  const byOffset = new Map(letters.map((m) => [m.headerText["x-original-offset"], m]));
  const raw = byOffset.get(poisonOffsets[0]);
  const invalid = byOffset.get(poisonOffsets[1]);
  expect(raw?.headerText["x-reason"]).toBe("unparseable");
  expect(invalid?.headerText["x-reason"]).toBe("invalid");
  for (const m of [raw, invalid]) {
    expect(m?.headerText["x-original-partition"]).toBe("0");
    expect(m?.headerText["x-original-topic"]).toBe(s.topic);
    expect(m?.headerText["x-error"]?.length ?? 0).toBeGreaterThan(0);
  }
  // The original bytes, untouched.
  expect(Buffer.compare(raw?.value ?? Buffer.alloc(0), notJson)).toBe(0);
  expect(invalid?.value?.toString("utf8")).toBe(offSchema);
});

test("a packed record with a poison event dead-letters that event alone; its other events and later records are stored", async () => {
  scenario = await Scenario.create("poison-packed", 1);
  const s = scenario;
  const packed = makeEvents(5, "packed");
  const after = makeEvents(4, "after");
  const poison = { v: 1, id: "poison-in-pack", level: "LOUD", message: "m", source: "x", ts: 1 };
  const texts = packed.map((e) => encodeEvent(e));
  const value = `[${texts[0]},${texts[1]},${JSON.stringify(poison)},${texts[2]},${texts[3]},${texts[4]}]`;
  const broken = `[${texts[0]},{"v":1`;
  const [packedOffset, brokenOffset] = await s.produceRaw(0, [
    value,
    broken,
    `[${after.map((e) => encodeEvent(e)).join(",")}]`,
  ]);

  const consumer = s.start("consumer");
  const counts = await s.drained(120_000, () => consumer.tail());
  const letters = await readTopic(dlqTopicOf(s.topic), 2, 60_000);
  expect(counts).toEqual({ rows: 9, ids: 9 });
  expect(await s.storedOf([...packed, ...after].map((e) => e.id))).toBe(9);
  const byOffset = new Map(letters.map((m) => [m.headerText["x-original-offset"], m]));
  const one = byOffset.get(packedOffset);
  expect(one?.headerText["x-reason"]).toBe("invalid");
  expect(one?.headerText["x-error"]).toStartWith("event 3 of 6: ");
  expect(JSON.parse(one?.value?.toString("utf8") ?? "null")).toEqual(poison);
  const whole = byOffset.get(brokenOffset);
  expect(whole?.headerText["x-reason"]).toBe("unparseable");
  expect(whole?.value?.toString("utf8")).toBe(broken);
});
