// Runs the LogBus contract against the in-process MemoryBus of embedded mode.

import { describe, expect, it } from "bun:test";
import { MemoryBus } from "../../src/adapters/bus/memory.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
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

const recordsBytesOf = (values: number[]) => values.reduce((total, v) => total + v + 1 + 64, 0);
