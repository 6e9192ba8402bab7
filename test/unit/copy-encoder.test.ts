import { describe, expect, test } from "bun:test";
import { type Encoded, encode, encoder } from "../../src/adapters/store/postgres/write-rows.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";

const event = (i: number, message: string): LogEvent => ({
  id: `id-${i}`,
  level: "INFO",
  message,
  source: `svc-${i % 3}`,
  timestamp: Date.UTC(2026, 0, 1) + i,
  metadata: i % 2 ? { n: i, note: "tab\there ✓" } : null,
});

const chunksOf = (rows: Encoded[], base: number, createdAt: string): Uint8Array[] => {
  const next = encoder(rows, base, createdAt);
  const out: Uint8Array[] = [];
  for (let c = next(); c !== undefined; c = next())
    out.push(typeof c === "string" ? new TextEncoder().encode(c) : c);
  return out;
};

describe("COPY chunks", () => {
  test("are the UTF-8 of every row in order, whatever the characters, and a row larger than a chunk is whole", () => {
    const messages = [
      "plain ascii",
      "héllo wörld ✓ 日本語 😀 and a\\backslash",
      "x".repeat(300 * 1024),
      ...Array.from({ length: 2000 }, (_, i) => `row ${i} ${"lorem ipsum ".repeat(i % 40)} ünï`),
    ];
    const rows = messages.map((m, i) => encode({ event: event(i, m), partition: i % 6, offset: String(i) }));
    const createdAt = "2026-12-06 20:00:00.123+00";
    const chunks = chunksOf(rows, 41, createdAt);
    const expected = rows.map((r, i) => `${42 + i}\t${createdAt}${r.tail}`).join("");
    expect(Buffer.concat(chunks).toString("utf8")).toBe(expected);
    expect(chunks.length).toBeGreaterThan(2);
    // Every chunk ends at a row's end: each one is a whole number of lines.
    for (const c of chunks) expect(c[c.length - 1]).toBe(10);
    const large = chunks.filter((c) => c.length > 256 * 1024);
    expect(large).toHaveLength(1);
  });

  test("no rows, no chunk", () => {
    expect(chunksOf([], 0, "2026-12-06 20:00:00+00")).toEqual([]);
  });
});
