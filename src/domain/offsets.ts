// Bus offsets are decimal strings (Kafka's may pass 2^53): compared as text, so no BigInt per record.

/** Orders two canonical non-negative decimal offsets (no leading zeros): negative, zero or positive. */
export const compareOffsets = (a: string, b: string): number =>
  a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;

/** The offset after this one. */
export const offsetAfter = (offset: string): string => (BigInt(offset) + 1n).toString();

/** Next offset to read per partition: the one after each partition's highest offset among the records. */
export const nextOffsets = (
  records: readonly { partition: number; offset: string }[],
): Map<number, string> => {
  const highest = new Map<number, string>();
  for (const r of records) {
    const current = highest.get(r.partition);
    if (current === undefined || compareOffsets(r.offset, current) > 0) highest.set(r.partition, r.offset);
  }
  return new Map([...highest].map(([partition, offset]) => [partition, offsetAfter(offset)]));
};
