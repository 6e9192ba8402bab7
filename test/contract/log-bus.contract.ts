// The LogPublisher + LogSubscriber contract: every bus adapter must pass it (run against Kafka and the memory bus).

import { afterEach, describe, expect, test } from "bun:test";
import { uuidv7 } from "uuidv7";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { BusBatch, BusRecord, LogPublisher, LogSubscriber } from "../../src/ports/log-bus.ts";
import { eventsOf, eventsOfAll } from "../helpers/bus-events.ts";

/** A dead letter as the adapter's destination holds it. */
export interface DeadLetterView {
  topic: string;
  key: string | null;
  value: Uint8Array | null;
  reason: string;
  error: string;
  partition: number;
  offset: string;
}

export interface LogBusFixture {
  publisher: LogPublisher;
  subscriber: LogSubscriber;
  /** Stops whatever is still running and removes what the fixture created. */
  cleanup: () => Promise<void>;
  /** Waits until `count` dead letters can be read, and returns them. */
  readDeadLetters: (count: number) => Promise<DeadLetterView[]>;
  /** Offsets the bus has committed for the subscriber (where the concept exists). */
  committed?: () => Promise<Map<number, string>>;
}

export const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
};

export const makeEvents = (count: number, sources: string[], prefix = "event"): LogEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    id: uuidv7(),
    level: "INFO",
    message: `${prefix} ${i}`,
    source: sources[i % sources.length] ?? "s",
    timestamp: Date.now(),
    metadata: { seq: i },
  }));

/** The ids of the events a record holds (several when the producer packed them into one record). */
const idsOf = (record: BusRecord): string[] => eventsOf(record).map((e) => e.id);

export const logBusContract = (name: string, make: () => Promise<LogBusFixture>) =>
  describe(`LogBus contract: ${name}`, () => {
    let fixture: LogBusFixture | undefined;
    const setup = async (): Promise<LogBusFixture> => {
      fixture = await make();
      await fixture.publisher.start();
      await fixture.subscriber.start();
      return fixture;
    };
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    test("delivers every published event exactly once, with its partition and offset", async () => {
      const { publisher, subscriber } = await setup();
      const events = makeEvents(300, ["api", "worker", "db", "cron", "web"]);
      const seen = new Map<string, number>();
      const records: BusRecord[] = [];
      const published = publisher.publish(events);
      await subscriber.run(async (batch) => {
        for (const r of batch.records) {
          records.push(r);
          for (const id of idsOf(r)) seen.set(id, (seen.get(id) ?? 0) + 1);
        }
      });
      await published;
      await waitFor("all events", () => seen.size === events.length);
      await subscriber.stop();
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(events.map((e) => e.id))).toEqual(new Set(seen.keys()));
      for (const r of records) {
        expect(Number.isInteger(r.partition)).toBe(true);
        expect(r.offset).toMatch(/^\d+$/);
        expect(r.timestamp).toBeGreaterThan(0);
      }
      const places = new Set(records.map((r) => `${r.partition}/${r.offset}`));
      expect(places.size).toBe(records.length);
    });

    test("keeps each source's events in one partition, in publish order", async () => {
      const { publisher, subscriber } = await setup();
      const sources = ["alpha", "beta", "gamma", "delta"];
      const records: BusRecord[] = [];
      const published = (async () => {
        for (let round = 0; round < 5; round++)
          await publisher.publish(makeEvents(40, sources, `round ${round}`));
      })();
      await subscriber.run(async (batch) => {
        records.push(...batch.records);
      });
      await published;
      await waitFor("all events", () => eventsOfAll(records).length === 200);
      for (const source of sources) {
        const mine = records.filter((r) => r.key === source);
        expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
        const byOffset = [...mine].sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
        const mineEvents = eventsOfAll(byOffset);
        expect(mineEvents.length).toBe(50);
        expect(new Set(mineEvents.map((e) => e.source))).toEqual(new Set([source]));
        const messages = mineEvents.map((e) => e.message);
        const expected = Array.from({ length: 5 }, (_, round) =>
          Array.from({ length: 40 }, (_, i) => i)
            .filter((i) => i % sources.length === sources.indexOf(source))
            .map((i) => `round ${round} ${i}`),
        ).flat();
        expect(messages).toEqual(expected);
        expect(mineEvents.map((e) => Number(e.metadata?.seq))).toEqual(
          expected.map((m) => Number(m.split(" ")[2])),
        );
      }
    });

    test("redelivers the records of a rejected batch and commits nothing before the handler succeeds", async () => {
      const { publisher, subscriber, committed } = await setup();
      const events = makeEvents(50, ["one", "two"]);
      let failing = true;
      let failures = 0;
      const failedIds = new Set<string>();
      const stored = new Map<string, number>();
      const storedRecords = new Set<string>();
      const published = publisher.publish(events);
      await subscriber.run(async (batch: BusBatch) => {
        if (failing) {
          failures++;
          for (const r of batch.records) for (const id of idsOf(r)) failedIds.add(id);
          throw new Error("store down");
        }
        for (const r of batch.records) {
          storedRecords.add(`${r.partition}/${r.offset}`);
          for (const id of idsOf(r)) stored.set(id, (stored.get(id) ?? 0) + 1);
        }
      });
      await waitFor("repeated failures", () => failures >= 3 && failedIds.size === events.length);
      if (committed) expect([...(await committed()).values()]).toEqual([]);
      failing = false;
      await published;
      await waitFor("all events stored", () => stored.size === events.length);
      expect([...stored.values()].every((n) => n === 1)).toBe(true);
      if (committed) {
        await waitFor("offsets committed", async () => {
          const total = [...(await committed()).values()].reduce((sum, o) => sum + Number(o), 0);
          // On a fresh topic the next offsets add up to the records it holds (fewer than events when packed).
          return total === storedRecords.size;
        });
      }
    });

    test("dead-letters keep the original bytes, where they came from and why", async () => {
      const { subscriber, readDeadLetters } = await setup();
      const value = new TextEncoder().encode('{"not":"an event"');
      const record: BusRecord = { partition: 0, offset: "41", key: "svc", value, timestamp: Date.now() };
      const unstorable: BusRecord = {
        partition: 0,
        offset: "42",
        key: null,
        value: null,
        timestamp: Date.now(),
      };
      await subscriber.deadLetter([
        { record, topic: "the-topic", reason: "unparseable", error: "Unexpected end of JSON input" },
        { record: unstorable, topic: "the-topic", reason: "unstorable", error: "refused by the store" },
      ]);
      const letters = await readDeadLetters(2);
      const byOffset = new Map(letters.map((l) => [l.offset, l]));
      const bad = byOffset.get("41");
      expect(bad?.value && new TextDecoder().decode(bad.value)).toBe('{"not":"an event"');
      expect(bad).toMatchObject({ key: "svc", reason: "unparseable", error: "Unexpected end of JSON input" });
      expect(bad).toMatchObject({ partition: 0, topic: "the-topic" });
      expect(byOffset.get("42")).toMatchObject({
        value: null,
        reason: "unstorable",
        error: "refused by the store",
      });
    });

    test("stop() waits for the batch in flight, then delivers nothing more", async () => {
      const { publisher, subscriber } = await setup();
      let active = 0;
      let stopped = false;
      let lateCall = false;
      const first = publisher.publish(makeEvents(20, ["x"]));
      await subscriber.run(async () => {
        if (stopped) lateCall = true;
        active++;
        await Bun.sleep(100);
        active--;
      });
      await waitFor("a batch in flight", () => active > 0);
      await subscriber.stop();
      stopped = true;
      expect(active).toBe(0);
      await first.catch(() => undefined);
      publisher.publish(makeEvents(5, ["x"])).catch(() => undefined);
      await Bun.sleep(300);
      expect(lateCall).toBe(false);
    });

    test("publishing nothing resolves at once", async () => {
      const { publisher } = await setup();
      await publisher.publish([]);
    });
  });
