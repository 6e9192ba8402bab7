// consumeBatch's check that a partition's records still come from the log read so far: a high watermark that
// went back, or a doubt (the topic went missing), is judged by what the broker says of the last record taken.

import { afterEach, describe, expect, test } from "bun:test";
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import { BatchMerger } from "../../src/adapters/bus/kafka/batch-merger.ts";
import { type BatchSource, consumeBatch } from "../../src/adapters/bus/kafka/consume-batch.ts";
import { PartitionLanes } from "../../src/adapters/bus/kafka/lanes.ts";
import type { Position, Taken } from "../../src/domain/offsets.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import type { BusBatch } from "../../src/ports/log-bus.ts";

const message = (offset: number, timestamp: number): KafkaMessage =>
  ({
    offset: String(offset),
    timestamp: String(timestamp),
    key: Buffer.from("src"),
    value: Buffer.from("{}"),
    headers: {},
    attributes: 0,
  }) as KafkaMessage;

/** A kafkajs batch of one partition: offsets from `from`, appended at `timestamp`, and its high watermark. */
const payload = (from: number, n: number, timestamp: number, high: number) => {
  const resolved: string[] = [];
  const p = {
    batch: {
      topic: "logs",
      partition: 0,
      highWatermark: String(high),
      messages: Array.from({ length: n }, (_, i) => message(from + i, timestamp)),
    },
    resolveOffset: (offset: string) => resolved.push(offset),
    isRunning: () => true,
    isStale: () => false,
    heartbeat: async () => {},
  };
  return { payload: p as unknown as EachBatchPayload, resolved };
};

const mergers: BatchMerger[] = [];
afterEach(async () => {
  for (const m of mergers.splice(0)) await m.close();
});

/** A source whose broker answers `holds` (or cannot answer: undefined) and that records what it was asked. */
const source = (holds: boolean | undefined, start?: Position) => {
  const handled: BusBatch[] = [];
  const asked: Taken[] = [];
  const rewound: number[] = [];
  const merger = new BatchMerger({
    topic: "logs",
    maxBatch: 1000,
    capacity: 2000,
    lingerMs: 0,
    handler: async (b) => {
      handled.push(b);
    },
    onStored: async () => {},
    retryDelay: () => 10,
  });
  mergers.push(merger);
  const src: BatchSource = {
    lanes: new PartitionLanes([merger]),
    maxBatch: 1000,
    signal: new AbortController().signal,
    positions: new Map(),
    startOffsets: () => Promise.resolve(new Map(start ? [[0, start]] : [])),
    logs: new Map(),
    doubted: new Set(),
    verify: async (_partition, last) => {
      asked.push(last);
      return holds;
    },
    rewind: async (partition) => {
      rewound.push(partition);
    },
    commit: async () => {},
    logger: silentLogger,
  };
  return { src, handled, asked, rewound };
};

describe("a partition's log, batch by batch", () => {
  test("a growing high watermark asks the broker nothing", async () => {
    const s = source(false);
    await consumeBatch(payload(0, 5, 1_000, 5).payload, s.src);
    const next = payload(5, 5, 2_000, 10);
    await consumeBatch(next.payload, s.src);
    expect(s.asked).toEqual([]);
    expect(s.rewound).toEqual([]);
    expect(next.resolved).toEqual(["9"]);
  });

  test("a high watermark that went back while the broker still holds the last record taken goes on", async () => {
    // Another broker became the leader and its high watermark is still catching up.
    const s = source(true);
    await consumeBatch(payload(0, 5, 1_000, 50).payload, s.src);
    const next = payload(5, 5, 2_000, 20);
    await consumeBatch(next.payload, s.src);
    expect(s.asked).toEqual([{ offset: "4", timestamp: 1_000 }]);
    expect(s.rewound).toEqual([]);
    expect(next.resolved).toEqual(["9"]);
  });

  test("a high watermark that went back on a log that no longer holds the last record is read from its start", async () => {
    const s = source(false);
    await consumeBatch(payload(0, 5, 1_000, 50).payload, s.src);
    const next = payload(5, 5, 9_000, 20);
    await consumeBatch(next.payload, s.src);
    expect(s.rewound).toEqual([0]);
    expect(next.resolved).toEqual([]);
  });

  test("a doubted partition whose log was replaced is read from its start, though its watermark grew", async () => {
    const s = source(false);
    await consumeBatch(payload(0, 5, 1_000, 5).payload, s.src);
    s.src.doubted.add(0);
    const next = payload(5, 5, 9_000, 500);
    await consumeBatch(next.payload, s.src);
    expect(s.asked).toEqual([{ offset: "4", timestamp: 1_000 }]);
    expect(s.rewound).toEqual([0]);
    expect(next.resolved).toEqual([]);
    expect(s.src.doubted.size).toBe(0);
  });

  test("before any record is taken, the store's position is what the broker is asked about", async () => {
    const s = source(false, { next: "40", appendedMs: 3_000 });
    s.src.logs.set(0, { high: "100" });
    s.src.doubted.add(0);
    const next = payload(40, 5, 9_000, 100);
    await consumeBatch(next.payload, s.src);
    expect(s.asked).toEqual([{ offset: "39", timestamp: 3_000 }]);
    expect(s.rewound).toEqual([0]);
  });

  test("when the broker cannot say, the batch is left to come again and the doubt stays", async () => {
    const s = source(undefined);
    await consumeBatch(payload(0, 5, 1_000, 5).payload, s.src);
    s.src.doubted.add(0);
    const next = payload(5, 5, 2_000, 10);
    await consumeBatch(next.payload, s.src);
    expect(next.resolved).toEqual([]);
    expect(s.rewound).toEqual([]);
    expect(s.src.doubted.has(0)).toBe(true);
  });
});
