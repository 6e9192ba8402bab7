// Packed Kafka records: a source's events in order, a bounded number and size per record, the object form for
// one event (what consumers before packing read), and decoding that takes each event or refuses it alone.

import { describe, expect, test } from "bun:test";
import { EVENTS_HEADER, MAX_RECORD_BYTES, packRecords } from "../../src/adapters/bus/kafka/messages.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { decodeEvent, decodeRecord, encodeEvent } from "../../src/domain/wire.ts";

const event = (i: number, source: string, message = `message ${i}`): LogEvent => ({
  id: `e-${i}`,
  level: "INFO",
  message,
  source,
  timestamp: 1_700_000_000_000 + i,
  metadata: i % 3 === 0 ? { i, nested: { ok: true } } : null,
});

const decodedEvents = (value: string) => {
  const d = decodeRecord(value);
  if (!d.ok) throw new Error(d.error);
  return d.events.map((e) => {
    if (!e.ok) throw new Error(e.error);
    return e.event;
  });
};

describe("packRecords", () => {
  test("each source's events, in order, in records of at most maxEvents, with their count in a header", () => {
    const sources = ["api", "db", "web"];
    const events = Array.from({ length: 250 }, (_, i) =>
      event(i, sources[i % 7 === 0 ? 2 : i % 2] as string),
    );
    const records = packRecords(events, 40);
    const bySource = new Map<string, LogEvent[]>();
    for (const r of records) {
      const got = decodedEvents(r.value as string);
      expect(got.length).toBeLessThanOrEqual(40);
      expect(new Set(got.map((e) => e.source))).toEqual(new Set([r.key as string]));
      if (got.length > 1) expect(r.headers).toEqual({ [EVENTS_HEADER]: String(got.length) });
      else expect(r.headers).toBeUndefined();
      bySource.set(r.key as string, [...(bySource.get(r.key as string) ?? []), ...got]);
    }
    for (const source of sources)
      expect(bySource.get(source)).toEqual(events.filter((e) => e.source === source));
  });

  test("one event is a record of its own object: the form every consumer reads", () => {
    const one = event(1, "api");
    const [record] = packRecords([one], 100);
    expect(record?.value).toBe(encodeEvent(one));
    expect(decodeEvent(record?.value as string)).toEqual({ ok: true, event: one });
    expect(packRecords([event(1, "a"), event(2, "b")], 100).map((r) => r.value)).toEqual([
      encodeEvent(event(1, "a")),
      encodeEvent(event(2, "b")),
    ]);
    expect(packRecords([event(1, "a"), event(2, "a")], 1)).toHaveLength(2);
  });

  test("no record's value passes MAX_RECORD_BYTES, however large the events", () => {
    const big = "é".repeat(15_000);
    const events = Array.from({ length: 60 }, (_, i) => event(i, "api", big));
    const records = packRecords(events, 100);
    expect(records.length).toBeGreaterThan(1);
    for (const r of records)
      expect(Buffer.byteLength(r.value as string)).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    expect(records.flatMap((r) => decodedEvents(r.value as string))).toEqual(events);
  });
});

describe("decodeRecord", () => {
  test("an array refuses only its bad events, each with its own JSON and its place", () => {
    const good = [event(1, "api"), event(2, "api")].map(encodeEvent);
    const bad = { ...JSON.parse(good[0] as string), level: "LOUD" };
    const d = decodeRecord(`[${good[0]},${JSON.stringify(bad)},${good[1]}]`);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.events.map((e) => e.ok)).toEqual([true, false, true]);
    const refused = d.events[1];
    if (refused?.ok !== false) throw new Error("expected a refusal");
    expect(refused.error).toStartWith("event 2 of 3: ");
    expect(JSON.parse(refused.json)).toEqual(bad);
  });

  test("a value a store cannot keep is refused inside an array too", () => {
    const lone = `{"v":1,"id":"x","level":"INFO","message":"a\\ud800b","source":"api","ts":1700000000000,"metadata":null}`;
    const d = decodeRecord(`[${encodeEvent(event(1, "api"))},${lone}]`);
    if (!d.ok) throw new Error(d.error);
    expect(d.events.map((e) => e.ok)).toEqual([true, false]);
  });

  test("a record that is not JSON, or an empty array, is refused whole", () => {
    expect(decodeRecord("[{")).toMatchObject({ ok: false, reason: "unparseable" });
    expect(decodeRecord("[]")).toMatchObject({ ok: false, reason: "invalid" });
    expect(decodeRecord(null)).toMatchObject({ ok: false, reason: "unparseable" });
    expect(decodeRecord('"text"')).toMatchObject({ ok: false, reason: "invalid" });
  });
});
