// Client times: the ISO form toISOString writes is read exactly as Date.parse reads it, every field boundary included.

import { describe, expect, test } from "bun:test";
import { MAX_TIME_MS, MIN_TIME_MS, parseTime } from "../../src/domain/time.ts";

const pad = (v: number, width: number): string => String(v).padStart(width, "0");

/** Date.parse's verdict held to the accepted range, as parseTime holds every form. */
const byDateParse = (text: string): number | undefined => {
  const ms = Date.parse(text);
  return Number.isFinite(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS ? ms : undefined;
};

describe("parseTime of YYYY-MM-DDTHH:MM:SS.sssZ", () => {
  test("agrees with Date.parse at and past every field's bounds (invalid fields, roll-overs, early years)", () => {
    for (const year of [0, 99, 100, 1969, 1970, 2024, 2026, 9999])
      for (let month = 0; month <= 13; month++)
        for (const day of [0, 1, 28, 29, 30, 31, 32])
          for (const hour of [0, 23, 24])
            for (const minute of [0, 59, 60])
              for (const second of [0, 59, 60]) {
                const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${pad(second * 16, 3)}Z`;
                expect([text, parseTime(text)]).toEqual([text, byDateParse(text)]);
              }
  });

  test("agrees with Date.parse on times spread over the accepted range", () => {
    for (let i = 0; i < 20_000; i++) {
      const text = new Date(Math.floor((MAX_TIME_MS / 20_000) * i + (i % 1000))).toISOString();
      expect(parseTime(text)).toBe(Date.parse(text));
    }
  });
});
