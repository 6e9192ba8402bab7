// Runs the LogBus contract against the in-process MemoryBus of embedded mode.

import { describe, expect, it } from "bun:test";
import { MemoryBus } from "../../src/adapters/bus/memory.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { BusBatch } from "../../src/ports/log-bus.ts";
import { uniqueName } from "../helpers/services.ts";
import { logBusContract } from "./log-bus.contract.ts";

logBusContract("memory", async () => {
  const bus = new MemoryBus({ topic: uniqueName("memory"), retryDelayMs: 20 });
  return {
    publisher: bus,
    subscriber: bus,
    cleanup: () => bus.stop(),
    readDeadLetters: async () =>
      bus.deadLetters.map((l) => ({
        topic: l.topic,
        key: l.record.key,
        value: l.record.value,
        reason: l.reason,
        error: l.error,
        partition: l.record.partition,
        offset: l.record.offset,
      })),
  };
});

describe("memory bus batches", () => {
  it("holds at most maxBatchBytes of records, except one larger record that goes alone", async () => {
    const bus = new MemoryBus({ topic: uniqueName("memory"), maxBatch: 100, maxBatchBytes: 4096 });
    const sizes: number[][] = [];
    await bus.run(async (batch) => {
      sizes.push(batch.records.map((r) => r.value?.byteLength ?? 0));
    });
    const at = (message: string): LogEvent => ({
      id: crypto.randomUUID(),
      level: "INFO",
      message,
      source: "s",
      timestamp: Date.now(),
      metadata: null,
    });
    // About 1.2 KiB each as records: three fit in 4 KiB, the fourth starts the next batch.
    await bus.publish([
      ...Array.from({ length: 6 }, () => at("x".repeat(1000))),
      at("y".repeat(10_000)),
      at("z"),
    ]);
    await bus.stop();
    for (const batch of sizes) if (batch.length > 1) expect(recordsBytesOf(batch)).toBeLessThanOrEqual(4096);
    expect(sizes.map((b) => b.length)).toEqual([3, 3, 1, 1]);
    expect(sizes[2]?.[0]).toBeGreaterThan(10_000);
  });
});

describe("memory bus queue", () => {
  it("refuses a publish past maxQueuedBytes while records wait, and takes one again once they are stored", async () => {
    const bus = new MemoryBus({ topic: uniqueName("memory"), maxBatchBytes: 1024, maxQueuedBytes: 8 * 1024 });
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await bus.run(() => gate);
    const big = (n: number): LogEvent[] =>
      Array.from({ length: n }, () => ({
        id: crypto.randomUUID(),
        level: "INFO",
        message: "m".repeat(2000),
        source: "s",
        timestamp: Date.now(),
        metadata: null,
      }));
    // Larger than the bound but alone in the queue: let in.
    const first = bus.publish(big(5));
    await expect(bus.publish(big(1))).rejects.toThrow("the in-process bus queue is full");
    release();
    await first;
    await bus.publish(big(1));
    await bus.stop();
  });
});

describe("memory bus pipelining", () => {
  const events = (n: number, tag: string): LogEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      id: `${tag}-${i}`,
      level: "INFO",
      message: `${tag} ${i}`,
      source: "s",
      timestamp: Date.now(),
      metadata: null,
    }));

  it("gives the records queued behind the batch in flight to prepare, then hands over that same batch", async () => {
    const bus = new MemoryBus({ topic: uniqueName("memory") });
    const prepared: BusBatch[] = [];
    const handled: BusBatch[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handler = Object.assign(
      async (batch: BusBatch) => {
        handled.push(batch);
        if (handled.length === 1) await gate;
      },
      { prepare: (batch: BusBatch) => void prepared.push(batch) },
    );
    await bus.run(handler);
    const first = bus.publish(events(3, "a"));
    await Bun.sleep(10);
    // Published while the first batch is in flight: prepared at once, before the first is stored.
    const second = bus.publish(events(2, "b"));
    const third = bus.publish(events(1, "c"));
    expect(prepared.map((b) => b.records.length)).toEqual([2]);
    release();
    await Promise.all([first, second, third]);
    await bus.stop();
    expect(handled.map((b) => b.records.map((r) => r.event?.id))).toEqual([
      ["a-0", "a-1", "a-2"],
      ["b-0", "b-1"],
      ["c-0"],
    ]);
    expect(handled[1]).toBe(prepared[0] as BusBatch);
  });

  it("forms the batches again from the head when one fails, the prepared one included", async () => {
    const bus = new MemoryBus({ topic: uniqueName("memory"), retryDelayMs: 5 });
    const handled: string[][] = [];
    let failed = false;
    const handler = Object.assign(
      async (batch: BusBatch) => {
        handled.push(batch.records.map((r) => r.event?.id ?? ""));
        await Bun.sleep(5);
        if (!failed) {
          failed = true;
          throw new Error("store down");
        }
      },
      { prepare: () => {} },
    );
    await bus.run(handler);
    const first = bus.publish(events(2, "a"));
    await Bun.sleep(1);
    const second = bus.publish(events(1, "b"));
    await Promise.all([first, second]);
    await bus.stop();
    expect(handled[0]).toEqual(["a-0", "a-1"]);
    // Every event was handed over again after the failure, in order.
    expect(handled.slice(1).flat()).toEqual(["a-0", "a-1", "b-0"]);
  });
});

const recordsBytesOf = (values: number[]) => values.reduce((total, v) => total + v + 1 + 64, 0);
