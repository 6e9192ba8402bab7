// The Kafka subscriber on the real broker: merged batches, commits on stop, store offsets, replay, lag, dead letters.

import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import {
  createKafkaSubscriber,
  type KafkaSubscriberOptions,
} from "../../src/adapters/bus/kafka/subscriber.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import type { KafkaConfig } from "../../src/config/load.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { BusBatch, BusRecord } from "../../src/ports/log-bus.ts";
import {
  committedOffsets,
  deleteRecordsBefore,
  deleteTopics,
  readTopic,
  testKafkaConfig,
} from "../contract/kafka-fixture.ts";
import { makeEvents, waitFor } from "../contract/log-bus.contract.ts";
import { eventsOf, eventsOfAll } from "../helpers/bus-events.ts";

setDefaultTimeout(120_000);

const idOf = (r: BusRecord): string => eventsOf(r)[0]?.id ?? "";
const sum = (m: Map<number, number | string>) => [...m.values()].reduce<number>((s, v) => s + Number(v), 0);

describe("Kafka subscriber", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  // One event per record unless a test packs them: these tests count records (offsets, lag, batch sizes).
  const setup = async (overrides: Partial<KafkaConfig> = {}) => {
    const cfg = testKafkaConfig({ recordMaxEvents: 1, ...overrides });
    const publisher = createKafkaPublisher(cfg, { logger: silentLogger });
    await publisher.start();
    cleanups.push(async () => {
      await publisher.stop();
      await deleteTopics([cfg.topic, dlqTopicOf(cfg.topic)]);
    });
    const subscriber = async (opts: Partial<KafkaSubscriberOptions> = {}) => {
      const sub = createKafkaSubscriber(cfg, {
        logger: silentLogger,
        retryBackoff: { initialMs: 50, maxMs: 500 },
        ...opts,
      });
      cleanups.push(() => sub.stop());
      await sub.start();
      return sub;
    };
    return { cfg, publisher, subscriber };
  };

  test("merges the records of several partitions into one handler batch", async () => {
    const { publisher, subscriber } = await setup({ partitions: 3 });
    await publisher.publish(makeEvents(600, ["a", "b", "c", "d", "e", "f"]));
    const batches: BusBatch[] = [];
    const sub = await subscriber({ maxBatch: 1000 });
    await sub.run(async (batch) => {
      batches.push(batch);
    });
    await waitFor("all records", () => batches.reduce((n, b) => n + b.records.length, 0) === 600);
    expect(batches.some((b) => new Set(b.records.map((r) => r.partition)).size > 1)).toBe(true);
  });

  test("never hands the handler more than maxBatch records", async () => {
    const { publisher, subscriber } = await setup({ partitions: 3 });
    await publisher.publish(makeEvents(600, ["a", "b", "c", "d", "e", "f"]));
    const sizes: number[] = [];
    const sub = await subscriber({ maxBatch: 64 });
    await sub.run(async (batch) => {
      sizes.push(batch.records.length);
    });
    await waitFor("all records", () => sizes.reduce((n, s) => n + s, 0) === 600);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
  });

  test("packed records: a batch holds at most maxBatch events, a record is never split, one larger goes alone", async () => {
    const { publisher, subscriber } = await setup({ partitions: 3, recordMaxEvents: 20 });
    const events = makeEvents(600, ["a", "b", "c", "d", "e", "f"]);
    await publisher.publish(events);
    const batches: BusBatch[] = [];
    const sub = await subscriber({ maxBatch: 64 });
    await sub.run(async (batch) => {
      batches.push(batch);
    });
    await waitFor("all events", () => eventsOfAll(batches.flatMap((b) => b.records)).length === 600);
    const records = batches.flatMap((b) => b.records);
    expect(records.length).toBe(30);
    expect(records.every((r) => r.events === 20 && eventsOf(r).length === 20)).toBe(true);
    for (const b of batches) expect(eventsOfAll(b.records).length).toBeLessThanOrEqual(64);
    expect(
      eventsOfAll(records)
        .map((e) => e.id)
        .sort(),
    ).toEqual(events.map((e) => e.id).sort());

    const { publisher: second, subscriber: secondSub } = await setup({ partitions: 1, recordMaxEvents: 20 });
    await second.publish(makeEvents(60, ["one"]));
    const sizes: number[] = [];
    const small = await secondSub({ maxBatch: 10 });
    await small.run(async (batch) => {
      sizes.push(eventsOfAll(batch.records).length);
    });
    await waitFor("all 60", () => sizes.reduce((n, s) => n + s, 0) === 60);
    expect(sizes).toEqual([20, 20, 20]);
  });

  test("a second subscriber of the group continues after what the first one handled and committed", async () => {
    const { publisher, subscriber } = await setup();
    const first = await subscriber();
    const seenFirst = new Set<string>();
    await first.run(async (b) => {
      for (const r of b.records) seenFirst.add(idOf(r));
    });
    await publisher.publish(makeEvents(100, ["a", "b", "c"]));
    await waitFor("first 100", () => seenFirst.size === 100);
    await first.stop();
    const later = makeEvents(50, ["a", "b", "c"], "later");
    await publisher.publish(later);
    const second = await subscriber();
    const seenSecond: string[] = [];
    await second.run(async (b) => {
      for (const r of b.records) seenSecond.push(idOf(r));
    });
    await waitFor("the later 50", () => seenSecond.length >= 50);
    await second.stop();
    expect(new Set(seenSecond)).toEqual(new Set(later.map((e) => e.id)));
    expect(seenSecond).toHaveLength(50);
  });

  test("skips records below the offsets the store committed, and commits past them", async () => {
    const { cfg, publisher, subscriber } = await setup({ partitions: 1 });
    await publisher.publish(makeEvents(100, ["one"]));
    const offsets: string[] = [];
    const sub = await subscriber({ startOffsets: async () => new Map([[0, { next: "40" }]]) });
    await sub.run(async (b) => {
      for (const r of b.records) offsets.push(r.offset);
    });
    await waitFor("60 records", () => offsets.length === 60);
    expect(offsets).toEqual(Array.from({ length: 60 }, (_, i) => String(40 + i)));
    await waitFor("commit", async () => (await committedOffsets(cfg.group, cfg.topic)).get(0) === "100");
  });

  test("counts the records the broker removed before the store had them, and reads on from the first left", async () => {
    const { cfg, publisher, subscriber } = await setup({ partitions: 1 });
    const before = Date.now() - 1000;
    await publisher.publish(makeEvents(100, ["one"]));
    // The store holds up to offset 39; retention then removed everything before offset 60.
    await deleteRecordsBefore(cfg.topic, 0, "60");
    const metrics = createMetrics();
    const offsets: string[] = [];
    const sub = await subscriber({
      metrics,
      startOffsets: async () => new Map([[0, { next: "40", appendedMs: before }]]),
    });
    await sub.run(async (b) => {
      for (const r of b.records) offsets.push(r.offset);
    });
    await waitFor("the 40 records left", () => offsets.length === 40);
    expect(offsets).toEqual(Array.from({ length: 40 }, (_, i) => String(60 + i)));
    const expired = async () => (await metrics.recordsExpired.get()).values[0]?.value ?? 0;
    await waitFor("the count", async () => (await expired()) === 20);
    expect(await expired()).toBe(20);
  });

  test("does not skip records appended after the store's position, though their offsets are below it", async () => {
    // The store's position was taken on a log deleted since: the topic's records are all newer than it.
    const { publisher, subscriber } = await setup({ partitions: 1 });
    const before = Date.now() - 1000;
    await publisher.publish(makeEvents(100, ["one"]));
    const offsets: string[] = [];
    const sub = await subscriber({
      startOffsets: async () => new Map([[0, { next: "40", appendedMs: before }]]),
    });
    await sub.run(async (b) => {
      for (const r of b.records) offsets.push(r.offset);
    });
    await waitFor("100 records", () => offsets.length === 100);
    expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  test("replays from the beginning under its own group and reports progress until done", async () => {
    const { cfg, publisher, subscriber } = await setup();
    const events = makeEvents(120, ["a", "b", "c", "d"]);
    await publisher.publish(events);
    const main = await subscriber();
    let mainSeen = 0;
    await main.run(async (b) => {
      mainSeen += b.records.length;
    });
    await waitFor("main group done", () => mainSeen === 120);
    await main.stop();
    const before = await committedOffsets(cfg.group, cfg.topic);

    const replay = await subscriber({ replayFrom: "earliest" });
    expect(replay.groupId).toStartWith(`${cfg.group}-replay-`);
    const replayed = new Set<string>();
    await replay.run(async (b) => {
      for (const r of b.records) replayed.add(idOf(r));
    });
    await waitFor("replay done", () => replay.progress().done);
    const progress = replay.progress();
    expect(progress.consumed).toBe(120);
    expect(sum(progress.end)).toBe(120);
    expect(replayed).toEqual(new Set(events.map((e) => e.id)));
    expect(await committedOffsets(cfg.group, cfg.topic)).toEqual(before);
  });

  test("replays from a time: starts at the first record the broker appended at or after it", async () => {
    const { publisher, subscriber } = await setup();
    await publisher.publish(makeEvents(50, ["a", "b"], "old"));
    await Bun.sleep(50);
    const from = Date.now();
    await Bun.sleep(50);
    const recent = makeEvents(30, ["a", "b"], "recent");
    await publisher.publish(recent);
    const replay = await subscriber({ replayFrom: from });
    const seen = new Set<string>();
    await replay.run(async (b) => {
      for (const r of b.records) seen.add(idOf(r));
    });
    await waitFor("replay done", () => replay.progress().done);
    expect(seen).toEqual(new Set(recent.map((e) => e.id)));
  });

  test("lag counts per partition what the group has not handled yet", async () => {
    const { publisher, subscriber } = await setup({ partitions: 3 });
    await publisher.publish(makeEvents(90, ["a", "b", "c", "d", "e"]));
    const sub = await subscriber();
    const lagBefore = await sub.lag();
    expect(sum(lagBefore)).toBe(90);
    expect([...lagBefore.keys()].sort()).toEqual([0, 1, 2]);
    let handled = 0;
    await sub.run(async (b) => {
      handled += b.records.length;
    });
    await waitFor("all handled", () => handled === 90);
    await waitFor("lag zero", async () => sum(await sub.lag()) === 0);
  });

  test("a dead letter carries the original bytes and every x- header", async () => {
    const { cfg, subscriber } = await setup();
    const sub = await subscriber();
    const value = new Uint8Array([0xff, 0xfe, 0x00, 0x41]);
    await sub.deadLetter([
      {
        record: { partition: 2, offset: "1234", key: "svc", value, timestamp: Date.now() },
        topic: cfg.topic,
        reason: "unparseable",
        error: "invalid UTF-8",
      },
    ]);
    const [letter] = await readTopic(dlqTopicOf(cfg.topic), 1);
    expect(letter?.value && [...letter.value]).toEqual([...value]);
    expect(letter?.key?.toString()).toBe("svc");
    expect(letter?.headerText).toMatchObject({
      "x-error": "invalid UTF-8",
      "x-reason": "unparseable",
      "x-original-topic": cfg.topic,
      "x-original-partition": "2",
      "x-original-offset": "1234",
    });
    expect(Number.isNaN(Date.parse(letter?.headerText["x-failed-at"] ?? ""))).toBe(false);
  });

  test("health is not ok before run() and names the group and partitions once joined", async () => {
    const { cfg, subscriber } = await setup({ partitions: 2 });
    const sub = await subscriber();
    expect((await sub.health()).ok).toBe(false);
    await sub.run(async () => {});
    await waitFor("joined", async () => (await sub.health()).ok);
    expect((await sub.health()).detail).toContain(cfg.group);
    expect((await sub.health()).detail).toContain("[0,1]");
  });

  test("a handler that keeps failing is retried with growing delays, not in a busy loop", async () => {
    const { publisher, subscriber } = await setup();
    await publisher.publish(makeEvents(10, ["a"]));
    const sub = await subscriber({ retryBackoff: { initialMs: 200, maxMs: 30_000 } });
    let calls = 0;
    await sub.run(async () => {
      calls++;
      throw new Error("store down");
    });
    await waitFor("first call", () => calls > 0);
    await Bun.sleep(2000);
    // 200, 400, 800 ms ... a loop without backoff would have called it hundreds of times.
    expect(calls).toBeLessThan(10);
    expect(sum(await sub.lag())).toBe(10);
  });

  test("lanes write at once, a partition in one lane at a time and in order", async () => {
    const { publisher, subscriber } = await setup({ partitions: 6 });
    await publisher.publish(makeEvents(1200, ["a", "b", "c", "d", "e", "f", "g", "h"]));
    const sub = await subscriber({ maxBatch: 50 });
    const inFlight = [new Set<number>(), new Set<number>()];
    const lastOffset = new Map<number, bigint>();
    const handled = [0, 0];
    const problems: string[] = [];
    let together = 0;
    const lane = (me: 0 | 1) => async (batch: BusBatch) => {
      const other = inFlight[1 - me] as Set<number>;
      const mine = new Set(batch.records.map((r) => r.partition));
      for (const p of mine) if (other.has(p)) problems.push(`partition ${p} in both lanes`);
      for (const r of batch.records) {
        const before = lastOffset.get(r.partition);
        if (before !== undefined && BigInt(r.offset) <= before)
          problems.push(`partition ${r.partition}: offset ${r.offset} after ${before}`);
        lastOffset.set(r.partition, BigInt(r.offset));
      }
      for (const p of mine) inFlight[me]?.add(p);
      if (other.size) together++;
      await Bun.sleep(20);
      for (const p of mine) inFlight[me]?.delete(p);
      handled[me] = (handled[me] ?? 0) + batch.records.length;
    };
    await sub.run([lane(0), lane(1)]);
    await waitFor("all records", () => (handled[0] ?? 0) + (handled[1] ?? 0) === 1200);
    expect(problems).toEqual([]);
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
    expect(together).toBeGreaterThan(0);
    await waitFor("committed", async () => sum(await sub.lag()) === 0);
  });

  test("a lane that keeps failing holds only its own partitions; the other lane stores the rest", async () => {
    const { publisher, subscriber } = await setup({ partitions: 6 });
    await publisher.publish(makeEvents(600, ["a", "b", "c", "d", "e", "f", "g", "h"]));
    const sub = await subscriber({ maxBatch: 50, retryBackoff: { initialMs: 50, maxMs: 100 } });
    let failing = true;
    /** Partition → when lane 0 first failed a batch of it. */
    const failed = new Map<number, number>();
    const stored: { record: BusRecord; at: number }[][] = [[], []];
    const store = (lane: 0 | 1, batch: BusBatch) => {
      const at = performance.now();
      for (const record of batch.records) stored[lane]?.push({ record, at });
    };
    await sub.run([
      async (batch) => {
        if (failing) {
          for (const r of batch.records)
            if (!failed.has(r.partition)) failed.set(r.partition, performance.now());
          throw new Error("store down");
        }
        store(0, batch);
      },
      async (batch) => store(1, batch),
    ]);
    await waitFor("the failing lane tried", () => failed.size > 0);
    await Bun.sleep(1500);
    // While lane 0 fails, its partitions wait for it: none of their records went to lane 1 meanwhile.
    const meanwhile = (stored[1] ?? []).filter(({ record, at }) => at > (failed.get(record.partition) ?? at));
    expect(meanwhile).toEqual([]);
    expect(stored[1]?.length).toBeGreaterThan(0);
    failing = false;
    await waitFor("all records", () => (stored[0]?.length ?? 0) + (stored[1]?.length ?? 0) === 600);
    await waitFor("committed", async () => sum(await sub.lag()) === 0);
  });
});
