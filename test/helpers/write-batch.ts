// A write batch of events as one partition's records 0..n-1, committing no offsets: how store tests fill a store.

import type { LogEvent } from "../../src/domain/log-event.ts";
import type { Position } from "../../src/domain/offsets.ts";
import type { WriteBatch } from "../../src/ports/log-store.ts";

export const batchOf = (events: readonly LogEvent[]): WriteBatch => ({
  group: "g",
  topic: "logs",
  events: events.map((event, i) => ({ event, partition: 0, offset: String(i) })),
  nextOffsets: new Map(),
});

/** The next offsets of a store's positions (LogWriter.committedPositions), without their append times. */
export const nextOffsetsOf = (positions: ReadonlyMap<number, Position>): Map<number, string> =>
  new Map([...positions].map(([partition, p]) => [partition, p.next]));
