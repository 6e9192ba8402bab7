// The size a bus record takes in memory, as the consumer's byte bounds count it.

import type { BusRecord } from "../../ports/log-bus.ts";

/** Value and key bytes plus a little for the record itself: an empty record still costs something. */
export const recordBytes = (r: BusRecord): number => (r.value?.byteLength ?? 0) + (r.key?.length ?? 0) + 64;

export const recordsBytes = (records: readonly BusRecord[]): number => {
  let total = 0;
  for (const r of records) total += recordBytes(r);
  return total;
};
