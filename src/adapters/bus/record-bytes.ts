// The size a bus record takes in memory and the events it holds, as the consumer's bounds count them.

import type { BusRecord } from "../../ports/log-bus.ts";

/** Value and key bytes plus a little for the record itself: an empty record still costs something. */
export const recordBytes = (r: BusRecord): number => (r.value?.byteLength ?? 0) + (r.key?.length ?? 0) + 64;

/** The events a record holds, as batches count them. */
export const recordEvents = (r: BusRecord): number => r.events ?? 1;

export const recordsEvents = (records: readonly BusRecord[]): number => {
  let total = 0;
  for (const r of records) total += recordEvents(r);
  return total;
};

export const recordsBytes = (records: readonly BusRecord[]): number => {
  let total = 0;
  for (const r of records) total += recordBytes(r);
  return total;
};
