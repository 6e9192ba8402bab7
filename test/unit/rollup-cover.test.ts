// How stats split a window of minutes into whole hours and the minutes around them, added or taken away.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { HOUR, hourCover, MINUTE, type Span } from "../../src/adapters/store/hour-cover.ts";

/** Minute → how many times the cover counts it (hours and plus spans add one, minus spans take one). */
const tally = (cover: ReturnType<typeof hourCover>): Map<number, number> => {
  const out = new Map<number, number>();
  const add = (s: Span, by: number) => {
    for (let m = s.from; m < s.to; m += MINUTE) out.set(m, (out.get(m) ?? 0) + by);
  };
  if (cover.hours) add(cover.hours, 1);
  for (const s of cover.plus) add(s, 1);
  for (const s of cover.minus) add(s, -1);
  for (const [m, n] of out) if (n === 0) out.delete(m);
  return out;
};

const minutes = (s: Span[]) => s.reduce((n, x) => n + (x.to - x.from) / MINUTE, 0);

const BASE = Date.UTC(2026, 10, 29);

describe("hour cover", () => {
  test("counts every minute of the window once and nothing else, reading at most 30 minutes an end", () => {
    const window = fc
      .tuple(fc.integer({ min: 0, max: 6 * 60 }), fc.integer({ min: 1, max: 5 * 60 }))
      .map(([a, n]) => ({ from: BASE + a * MINUTE, to: BASE + (a + n) * MINUTE }));
    fc.assert(
      fc.property(window, ({ from, to }) => {
        const cover = hourCover(from, to);
        const want = new Map<number, number>();
        for (let m = from; m < to; m += MINUTE) want.set(m, 1);
        expect(tally(cover)).toEqual(want);
        expect(minutes(cover.plus) + minutes(cover.minus)).toBeLessThanOrEqual(60);
        for (const s of [...cover.plus, ...cover.minus]) {
          expect(s.from).toBeLessThan(s.to);
          expect(s.to - s.from).toBeLessThanOrEqual(HOUR / 2);
        }
        if (cover.hours) {
          expect(cover.hours.from % HOUR).toBe(0);
          expect(cover.hours.to % HOUR).toBe(0);
        }
      }),
      { numRuns: 2000, seed: 5 },
    );
  });

  test("takes a partial hour whole, less the minutes outside the window, when that reads fewer", () => {
    expect(hourCover(BASE + 10 * MINUTE, BASE + 50 * MINUTE)).toEqual({
      hours: { from: BASE, to: BASE + HOUR },
      plus: [],
      minus: [
        { from: BASE, to: BASE + 10 * MINUTE },
        { from: BASE + 50 * MINUTE, to: BASE + HOUR },
      ],
    });
    expect(hourCover(BASE + 40 * MINUTE, BASE + HOUR + 20 * MINUTE)).toEqual({
      plus: [
        { from: BASE + 40 * MINUTE, to: BASE + HOUR },
        { from: BASE + HOUR, to: BASE + HOUR + 20 * MINUTE },
      ],
      minus: [],
    });
    expect(hourCover(BASE, BASE + 3 * HOUR)).toEqual({
      hours: { from: BASE, to: BASE + 3 * HOUR },
      plus: [],
      minus: [],
    });
  });
});
