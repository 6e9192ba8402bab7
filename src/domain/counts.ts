// Counts keyed by client text (sources, levels): null-prototype objects, so "__proto__" or "constructor" is a key.

/**
 * An empty dictionary of counts with no prototype: `counts[key] ?? 0` never reads an inherited member, and
 * assigning "__proto__" makes an own key (JSON.stringify then writes it like any other).
 */
export const emptyCounts = <T extends Partial<Record<string, number>> = Record<string, number>>(): T =>
  Object.create(null) as T;

const byCountThenName = (a: [string, number], b: [string, number]): number =>
  b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The `max` keys with the largest counts (ties by name) and the sum of every other count. */
export const topCounts = (
  all: ReadonlyMap<string, number>,
  max: number,
): { top: Record<string, number>; rest: number } => {
  const top: Record<string, number> = emptyCounts();
  let rest = 0;
  const sorted = [...all].sort(byCountThenName);
  for (let i = 0; i < sorted.length; i++) {
    const [key, n] = sorted[i] as [string, number];
    if (i < max) top[key] = n;
    else rest += n;
  }
  return { top, rest };
};
