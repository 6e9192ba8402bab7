// Counting a span of minutes from rollups: whole hours from an hour rollup, the minutes left over from a minute
// one, added or taken away so that as few minute rows as possible are read. Shared by both stores.

export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** Minutes [from, to), with `to` exclusive. */
export interface Span {
  from: number;
  to: number;
}

/**
 * Whole minutes [from, to) as whole hours [hours.from, hours.to) plus the `plus` minutes less the `minus`
 * ones, reading as few minute rows as it can: a partial hour of more than 30 minutes is taken as its whole
 * hour less the minutes outside the window, so no more than 30 minutes are read at either end. Exact as
 * long as every hour row is the sum of its minute rows, which the writer keeps in one transaction.
 */
export const hourCover = (from: number, to: number): { hours?: Span; plus: Span[]; minus: Span[] } => {
  const plus: Span[] = [];
  const minus: Span[] = [];
  const add = (list: Span[], a: number, b: number) => {
    if (a < b) list.push({ from: a, to: b });
  };
  let lo = Math.ceil(from / HOUR) * HOUR;
  let hi = Math.floor(to / HOUR) * HOUR;
  if (lo > hi) {
    // Inside one hour.
    if (to - from <= HOUR / 2) return { plus: [{ from, to }], minus };
    lo = hi;
    hi = lo + HOUR;
    add(minus, lo, from);
    add(minus, to, hi);
    return { hours: { from: lo, to: hi }, plus, minus };
  }
  if (lo - from > HOUR / 2) {
    add(minus, lo - HOUR, from);
    lo -= HOUR;
  } else add(plus, from, lo);
  if (to - hi > HOUR / 2) {
    add(minus, to, hi + HOUR);
    hi += HOUR;
  } else add(plus, hi, to);
  return lo < hi ? { hours: { from: lo, to: hi }, plus, minus } : { plus, minus };
};
