// Writer lanes: a partition stays in its lane while the lane holds records of it, then goes where fewest are bound.

import { afterEach, describe, expect, test } from "bun:test";
import { BatchMerger } from "../../src/adapters/bus/kafka/batch-merger.ts";
import { PartitionLanes } from "../../src/adapters/bus/kafka/lanes.ts";
import type { BusBatch, BusRecord } from "../../src/ports/log-bus.ts";

const records = (partition: number, from: number, count: number): BusRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    partition,
    offset: String(from + i),
    key: null,
    value: null,
    timestamp: 0,
  }));

const mergers: BatchMerger[] = [];
afterEach(async () => {
  for (const m of mergers.splice(0)) await m.close();
});

/** Lanes whose handlers never finish: what is submitted stays held until stored() is called by the test. */
const lanesOf = (n: number) => {
  const all = Array.from({ length: n }, () => {
    const m = new BatchMerger({
      topic: "t",
      maxBatch: 100,
      capacity: 1000,
      lingerMs: 60_000,
      handler: () => new Promise<void>(() => {}),
      onStored: async () => {},
      retryDelay: () => 10,
    });
    mergers.push(m);
    return m;
  });
  return { lanes: new PartitionLanes(all), mergers: all };
};

const submit = (lanes: PartitionLanes, rs: BusRecord[]): number => {
  const partition = rs[0]?.partition ?? 0;
  const merger = lanes.mergerOf(partition);
  lanes.submitted(partition, merger, rs.length);
  return lanes.mergers.indexOf(merger);
};

const batch = (rs: BusRecord[]): BusBatch => ({ topic: "t", records: rs });

describe("partition lanes", () => {
  test("partitions spread over the lanes, and stay in theirs while it holds records of them", () => {
    const { lanes } = lanesOf(2);
    const at = [0, 1, 2, 3].map((p) => submit(lanes, records(p, 0, 10)));
    expect(at).toEqual([0, 1, 0, 1]);
    // More of partition 2 goes where partition 2 is, though lane 1 now holds as many partitions.
    expect(submit(lanes, records(2, 10, 10))).toBe(0);
    expect(submit(lanes, records(1, 10, 10))).toBe(1);
  });

  test("a partition is released only once every record of it its lane held is stored", () => {
    const { lanes } = lanesOf(2);
    const first = records(0, 0, 10);
    const second = records(0, 10, 5);
    expect(submit(lanes, first)).toBe(0);
    expect(submit(lanes, second)).toBe(0);
    expect(submit(lanes, records(1, 0, 10))).toBe(1);
    expect(submit(lanes, records(2, 0, 10))).toBe(0);
    lanes.stored(batch(first));
    // Five records of partition 0 are still in lane 0: it stays there.
    expect(lanes.mergers.indexOf(lanes.mergerOf(0))).toBe(0);
    lanes.stored(batch(second));
    lanes.stored(batch(records(1, 0, 10)));
    // Partition 0 is free now; lane 1 holds no partition, lane 0 holds partition 2.
    expect(lanes.mergers.indexOf(lanes.mergerOf(0))).toBe(1);
  });

  test("a merged batch releases each of its partitions by the records it held", () => {
    const { lanes } = lanesOf(3);
    const a = records(0, 0, 3);
    const b = records(1, 0, 4);
    expect(submit(lanes, a)).toBe(0);
    expect(submit(lanes, b)).toBe(1);
    lanes.stored(batch([...a, ...b]));
    // Both are free: three new partitions take the three lanes (else the first would go to lane 2).
    expect([5, 6, 7].map((p) => submit(lanes, records(p, 0, 1)))).toEqual([0, 1, 2]);
  });

  test("one lane takes every partition", () => {
    const { lanes } = lanesOf(1);
    expect([0, 1, 2].map((p) => submit(lanes, records(p, 0, 1)))).toEqual([0, 0, 0]);
  });
});
