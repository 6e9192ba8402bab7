// Bus offsets are decimal strings (Kafka's may pass 2^53): compared as text, so no BigInt per record.

/** Orders two canonical non-negative decimal offsets (no leading zeros): negative, zero or positive. */
export const compareOffsets = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;

/** The offset after this one. */
export const offsetAfter = (offset: string): string => (BigInt(offset) + 1n).toString();

/** Each partition's record with the highest offset. */
const newestPerPartition = <R extends { partition: number; offset: string }>(
  records: readonly R[],
): Map<number, R> => {
  const newest = new Map<number, R>();
  for (const r of records) {
    const current = newest.get(r.partition);
    if (current === undefined || compareOffsets(r.offset, current.offset) > 0) newest.set(r.partition, r);
  }
  return newest;
};

/** Next offset to read per partition: the one after each partition's highest offset among the records. */
export const nextOffsets = (records: readonly { partition: number; offset: string }[]): Map<number, string> =>
  new Map([...newestPerPartition(records)].map(([partition, r]) => [partition, offsetAfter(r.offset)]));

/**
 * Where these records move each partition's position: the offset after its newest record, and when that record
 * was appended (see Position).
 */
export const nextPositions = (
  records: readonly { partition: number; offset: string; timestamp: number }[],
): { nextOffsets: Map<number, string>; appendedMs: Map<number, number> } => {
  const newest = [...newestPerPartition(records)];
  return {
    nextOffsets: new Map(newest.map(([partition, r]) => [partition, offsetAfter(r.offset)])),
    appendedMs: new Map(newest.map(([partition, r]) => [partition, r.timestamp])),
  };
};

/**
 * Where a consumer group left a partition: the next offset to read and, when known, when the record before it
 * was appended to the bus (epoch ms; positions kept by an earlier version have none).
 */
export interface Position {
  next: string;
  appendedMs?: number;
}

/** A position, with its append time when there is one (a column or a map may hold null or nothing). */
export const positionOf = (next: string, appendedMs: number | null | undefined): Position =>
  appendedMs === null || appendedMs === undefined ? { next } : { next, appendedMs };

/**
 * Whether the record at `offset`, appended at `appendedMs`, is one the group handled before reaching
 * `position`. Offsets alone cannot tell: a topic deleted and created again (or a broker whose data was wiped)
 * counts from 0 again, and its new records would pass for ones already stored. They were appended after the
 * position's own record, so a record counts as handled only when it precedes the position in offset and is
 * not newer than it. A broker clock that steps back can only make a handled record look new: it is then
 * written again and its id makes it a duplicate, nothing is skipped.
 */
export const handledBefore = (position: Position | undefined, offset: string, appendedMs?: number): boolean =>
  position !== undefined &&
  compareOffsets(offset, position.next) < 0 &&
  (position.appendedMs === undefined || appendedMs === undefined || appendedMs <= position.appendedMs);

/**
 * Whether `next` should replace `current` as the group's position: the later record wins, by append time when
 * both have one (a topic created again starts from a lower offset with newer records), else by offset.
 */
export const advances = (current: Position | undefined, next: Position): boolean => {
  if (current === undefined) return true;
  if (current.appendedMs === undefined || next.appendedMs === undefined)
    return compareOffsets(next.next, current.next) > 0;
  if (next.appendedMs !== current.appendedMs) return next.appendedMs > current.appendedMs;
  return compareOffsets(next.next, current.next) > 0;
};

/** A record taken from a partition: its offset and when it was appended. */
export interface Taken {
  offset: string;
  timestamp: number;
}

/** The last record a position covers, when the position says when it was appended. */
export const lastCovered = (position: Position | undefined): Taken | undefined =>
  position?.appendedMs === undefined || position.next === "0"
    ? undefined
    : { offset: (BigInt(position.next) - 1n).toString(), timestamp: position.appendedMs };
