// The Kafka subscriber's batch merger: slices accepted at once up to a capacity, batches handed over in order,
// a failed batch handed over again until it succeeds, the next batch prepared while one is in flight.

import { describe, expect, test } from "bun:test";
import { BatchMerger, MergerClosed } from "../../src/adapters/bus/kafka/batch-merger.ts";
import { recordsBytes } from "../../src/adapters/bus/record-bytes.ts";
import type { BatchHandler, BusBatch, BusRecord } from "../../src/ports/log-bus.ts";

const records = (partition: number, from: number, count: number, valueBytes?: number): BusRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    partition,
    offset: String(from + i),
    key: null,
    value: valueBytes === undefined ? null : new Uint8Array(valueBytes),
    timestamp: 0,
  }));

const offsetsOf = (b: BusBatch) => b.records.map((r) => `${r.partition}:${r.offset}`);

const setup = (
  over: {
    handle?: (b: BusBatch) => Promise<void>;
    capacity?: number;
    maxBatchBytes?: number;
    capacityBytes?: number;
  } = {},
) => {
  const handled: BusBatch[] = [];
  const prepared: BusBatch[] = [];
  const stored: { batch: BusBatch; next: Map<number, string> }[] = [];
  const failures: number[] = [];
  const handler: BatchHandler = Object.assign(
    async (b: BusBatch) => {
      handled.push(b);
      await (over.handle ?? (async () => {}))(b);
    },
    { prepare: (b: BusBatch) => void prepared.push(b) },
  );
  const merger = new BatchMerger({
    topic: "t",
    maxBatch: 10,
    capacity: over.capacity ?? 20,
    ...(over.maxBatchBytes ? { maxBatchBytes: over.maxBatchBytes } : {}),
    ...(over.capacityBytes ? { capacityBytes: over.capacityBytes } : {}),
    lingerMs: 2,
    handler,
    onStored: async (batch, next) => void stored.push({ batch, next }),
    retryDelay: () => 5,
    onFailure: (_, ms) => void failures.push(ms),
  });
  return { merger, handled, prepared, stored, failures };
};

const settle = async (ok: () => boolean) => {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error("not settled in 5 s");
    await Bun.sleep(2);
  }
};

describe("BatchMerger", () => {
  test("merges slices of one moment into batches of at most maxBatch, in order, and commits each after it", async () => {
    const { merger, handled, stored } = setup();
    merger.submit(records(0, 0, 4));
    merger.submit(records(1, 0, 4));
    merger.submit(records(2, 0, 4)); // 12 > 10: starts the next batch
    await settle(() => stored.length === 2);
    expect(handled.map(offsetsOf)).toEqual([
      [...records(0, 0, 4), ...records(1, 0, 4)].map((r) => `${r.partition}:${r.offset}`),
      records(2, 0, 4).map((r) => `${r.partition}:${r.offset}`),
    ]);
    expect(stored.map((s) => Object.fromEntries(s.next))).toEqual([{ 0: "4", 1: "4" }, { 2: "4" }]);
  });

  test("closes a batch before the record that would take it past maxBatchBytes; a larger record goes alone", async () => {
    const KIB = 1024;
    const { merger, handled, stored } = setup({ maxBatchBytes: 10 * KIB, capacity: 100 });
    const size = (b: BusBatch) => recordsBytes(b.records);
    merger.submit(records(0, 0, 3, 3 * KIB)); // about 9 KiB: fits
    merger.submit(records(1, 0, 2, 3 * KIB)); // would pass 10 KiB: starts the next batch
    merger.submit(records(2, 0, 1, 25 * KIB)); // alone, though larger than the bound
    merger.submit(records(3, 0, 8, 2 * KIB)); // one slice of about 16 KiB, spread over two batches
    await settle(() => stored.length === 5);
    expect(handled.map((b) => b.records.map((r) => `${r.partition}:${r.offset}`))).toEqual([
      ["0:0", "0:1", "0:2"],
      ["1:0", "1:1"],
      ["2:0"],
      ["3:0", "3:1", "3:2", "3:3"],
      ["3:4", "3:5", "3:6", "3:7"],
    ]);
    for (const b of handled) if (b.records.length > 1) expect(size(b)).toBeLessThanOrEqual(10 * KIB);
    // Offsets of a slice spread over two batches: the first commits the part it holds.
    expect(stored.map((s) => Object.fromEntries(s.next))).toEqual([
      { 0: "3" },
      { 1: "2" },
      { 2: "1" },
      { 3: "4" },
      { 3: "8" },
    ]);
  });

  test("says there is no room once the bytes waiting would pass capacityBytes", () => {
    const { merger } = setup({ handle: () => new Promise(() => {}), capacity: 1000, capacityBytes: 5000 });
    merger.submit(records(0, 0, 1, 100)); // in flight
    merger.submit(records(1, 0, 2, 1000));
    expect(merger.hasRoom(1, 2000)).toBe(true);
    expect(merger.hasRoom(1, 4000)).toBe(false);
  });

  test("a failed batch is handed over again, as it was, before any later one; its offsets wait for success", async () => {
    let fails = 2;
    const { merger, handled, stored, failures } = setup({
      handle: async (b) => {
        if (b.records[0]?.partition === 0 && fails-- > 0) throw new Error("store down");
      },
    });
    merger.submit(records(0, 0, 10));
    merger.submit(records(1, 0, 10));
    await settle(() => stored.length === 2);
    expect(failures).toHaveLength(2);
    expect(handled.map((b) => b.records[0]?.partition)).toEqual([0, 0, 0, 1]);
    expect(handled[0]).toBe(handled[2] as BusBatch);
    expect(stored.map((s) => s.batch.records[0]?.partition)).toEqual([0, 1]);
  });

  test("says there is no room past its capacity and wakes a waiter once a batch goes to the handler", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { merger, stored } = setup({ handle: () => gate, capacity: 20 });
    merger.submit(records(0, 0, 10)); // in flight
    merger.submit(records(1, 0, 10));
    merger.submit(records(2, 0, 10));
    expect(merger.hasRoom(1)).toBe(false);
    expect(merger.hasRoom(0)).toBe(true);
    let woke = false;
    const waiting = merger.waitForRoom(5000).then(() => {
      woke = true;
    });
    await Bun.sleep(20);
    expect(woke).toBe(false);
    release();
    await waiting;
    expect(woke).toBe(true);
    expect(merger.hasRoom(10)).toBe(true);
    expect(merger.hasRoom(11)).toBe(false);
    await settle(() => stored.length === 3);
  });

  test("prepares the next sealed batch while one is in flight and hands over that same object", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { merger, handled, prepared, stored } = setup({ handle: () => gate });
    merger.submit(records(0, 0, 10));
    merger.submit(records(1, 0, 10));
    await settle(() => prepared.length === 1);
    expect(offsetsOf(prepared[0] as BusBatch)).toEqual(offsetsOf({ topic: "t", records: records(1, 0, 10) }));
    release();
    await settle(() => stored.length === 2);
    expect(handled[1]).toBe(prepared[0] as BusBatch);
  });

  test("close() waits for the batch in flight, drops the rest uncommitted and refuses new slices", async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { merger, handled, stored } = setup({ handle: () => gate });
    merger.submit(records(0, 0, 10));
    merger.submit(records(1, 0, 10));
    await settle(() => handled.length === 1);
    const closing = merger.close();
    release();
    await closing;
    expect(stored.map((s) => s.batch.records[0]?.partition)).toEqual([0]);
    expect(handled).toHaveLength(1);
    expect(() => merger.submit(records(2, 0, 1))).toThrow(MergerClosed);
  });

  test("close() stops retrying a failing batch without committing it", async () => {
    const { merger, stored, failures } = setup({
      handle: async () => {
        throw new Error("store down");
      },
    });
    merger.submit(records(0, 0, 5));
    await settle(() => failures.length >= 2);
    await merger.close();
    expect(stored).toHaveLength(0);
  });

  test("packed records count as the events they hold: batches and capacity in events, a record never split", async () => {
    const { merger, handled, stored } = setup({ capacity: 20 });
    // maxBatch is 10 events: records of 4 events go two to a batch, one of 12 goes alone.
    const packed = (from: number, sizes: number[]): BusRecord[] =>
      sizes.map((events, i) => ({ ...(records(0, from + i, 1)[0] as BusRecord), events }));
    merger.submit(packed(0, [4, 4, 4, 12, 4]));
    // What waits is counted in events: 28 of a capacity of 20, so nothing more fits until a batch goes.
    expect(merger.hasRoom(1)).toBe(false);
    await settle(() => stored.length === 4);
    expect(handled.map((b) => b.records.map((r) => r.events))).toEqual([[4, 4], [4], [12], [4]]);
    expect(stored.map((s) => [...s.next])).toEqual([[[0, "2"]], [[0, "3"]], [[0, "4"]], [[0, "5"]]]);
    expect(merger.hasRoom(20)).toBe(true);
    await merger.close();
  });
});
