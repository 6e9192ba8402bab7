import { describe, expect, test } from "bun:test";
import { claimEncoder, type Encoded, encode, encoder } from "../../src/adapters/store/postgres/write-rows.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";

const event = (i: number, message: string): LogEvent => ({
  id: `id-${i}`,
  level: "INFO",
  message,
  source: `svc-${i % 3}`,
  timestamp: Date.UTC(2026, 0, 1) + i,
  metadata: i % 2 ? { n: i, note: "tab\there ✓" } : null,
});

const chunksOf = (rows: Encoded[], base: number, createdAt: bigint): Buffer[] => {
  const next = encoder(rows, base, createdAt);
  const out: Buffer[] = [];
  for (let c = next(); c !== undefined; c = next()) out.push(Buffer.from(c as Uint8Array));
  return out;
};

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/** Reads rows of COPY binary from `at` until the buffer ends or the trailer; each row as its fields. */
const readRows = (b: Buffer, at: number): { rows: (Buffer | null)[][]; trailer: boolean } => {
  const rows: (Buffer | null)[][] = [];
  while (at < b.length) {
    const n = b.readInt16BE(at);
    at += 2;
    if (n === -1) {
      expect(at).toBe(b.length);
      return { rows, trailer: true };
    }
    const fields: (Buffer | null)[] = [];
    for (let f = 0; f < n; f++) {
      const len = b.readInt32BE(at);
      at += 4;
      fields.push(len < 0 ? null : b.subarray(at, at + len));
      at += Math.max(0, len);
    }
    rows.push(fields);
  }
  return { rows, trailer: false };
};

describe("COPY binary chunks", () => {
  test("hold every row in order, whole, with the header first and the trailer last", () => {
    const messages = [
      "plain ascii",
      "héllo wörld ✓ 日本語 😀 and a\\backslash",
      "x".repeat(300 * 1024),
      ...Array.from({ length: 2000 }, (_, i) => `row ${i} ${"lorem ipsum ".repeat(i % 40)} ünï`),
    ];
    const events = messages.map((m, i) => event(i, m));
    const rows = events.map((e, i) => encode({ event: e, partition: i % 6, offset: String(i) }));
    const createdAt = 123_456_789_012_345n;
    const chunks = chunksOf(rows, 41, createdAt);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.filter((c) => c.length > 256 * 1024)).toHaveLength(1);
    const first = chunks[0] as Buffer;
    expect(first.subarray(0, 11).equals(SIGNATURE)).toBe(true);
    expect(first.readInt32BE(11)).toBe(0);
    expect(first.readInt32BE(15)).toBe(0);
    const all: (Buffer | null)[][] = [];
    chunks.forEach((c, k) => {
      const { rows: got, trailer } = readRows(c, k === 0 ? 19 : 0);
      expect(trailer).toBe(k === chunks.length - 1);
      all.push(...got);
    });
    expect(all).toHaveLength(events.length);
    all.forEach((fields, i) => {
      const e = events[i] as LogEvent;
      expect(fields).toHaveLength(11);
      expect(fields[0]?.readBigInt64BE()).toBe(BigInt(42 + i));
      expect(fields[1]?.readBigInt64BE()).toBe(createdAt);
      expect(fields[2]?.readBigInt64BE()).toBe(BigInt(e.timestamp - 946_684_800_000) * 1000n);
      expect(fields[3]?.toString()).toBe(e.id);
      expect(fields[6]?.toString()).toBe(e.message);
      if (e.metadata === null) expect(fields[7]).toBeNull();
      else expect(fields[7]?.toString()).toBe(JSON.stringify(e.metadata));
      expect(fields[9]?.readInt32BE()).toBe(i % 6);
      expect(fields[10]?.readBigInt64BE()).toBe(BigInt(i));
    });
  });

  test("no rows, no chunk", () => {
    expect(chunksOf([], 0, 0n)).toEqual([]);
  });

  test("of claims hold each (id, ts) in order, whole, over as many chunks as they need", () => {
    // Ids up to 2.5 KB of multi-byte text: 20,000 of them take several chunks.
    const claims: Encoded[] = Array.from({ length: 20_000 }, (_, i) => ({
      id: `${i}-${"ü✓".repeat(i % 500)}`,
      ts: Date.UTC(2026, 0, 1) + i,
      tail: new Uint8Array(0),
    }));
    const next = claimEncoder(claims);
    const chunks: Buffer[] = [];
    for (let c = next(); c !== undefined; c = next()) chunks.push(Buffer.from(c as Uint8Array));
    expect(chunks.length).toBeGreaterThan(2);
    expect((chunks[0] as Buffer).subarray(0, 11).equals(SIGNATURE)).toBe(true);
    const all: (Buffer | null)[][] = [];
    chunks.forEach((c, k) => {
      const { rows: got, trailer } = readRows(c, k === 0 ? 19 : 0);
      expect(trailer).toBe(k === chunks.length - 1);
      all.push(...got);
    });
    expect(all.map((f) => f[0]?.toString())).toEqual(claims.map((c) => c.id));
    expect(all.map((f) => f[1]?.readBigInt64BE())).toEqual(
      claims.map((c) => BigInt(c.ts - 946_684_800_000) * 1000n),
    );
  });
});
