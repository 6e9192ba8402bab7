// The consumer takes an in-process record's event as the producer validated it, without decoding its bytes.

import { describe, expect, it } from "bun:test";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { DeadLetter } from "../../src/ports/log-bus.ts";
import { createPersister } from "../../src/services/persist.ts";

describe("persist, in-process records", () => {
  it("stores the record's event as it is, and decodes records without one", async () => {
    const store = createSqliteStore(":memory:");
    const letters: DeadLetter[] = [];
    const persist = createPersister({
      writer: store.writer,
      subscriber: { deadLetter: async (l) => void letters.push(...l) },
      group: "g",
    });
    const carried: LogEvent = {
      id: "carried",
      level: "WARN",
      message: "kept as it is",
      source: "api",
      timestamp: Date.now(),
      metadata: { n: 1 },
    };
    const encoded = JSON.stringify({
      ...carried,
      v: 1,
      id: "decoded",
      ts: carried.timestamp,
      timestamp: undefined,
    });
    await persist({
      topic: "t",
      transient: true,
      records: [
        // No bytes at all: only the event can have been stored.
        { partition: 0, offset: "0", key: "api", value: null, timestamp: Date.now(), event: carried },
        { partition: 0, offset: "1", key: "api", value: Buffer.from(encoded), timestamp: Date.now() },
        { partition: 0, offset: "2", key: "api", value: null, timestamp: Date.now() },
      ],
    });
    expect(await store.reader.findById("carried")).toMatchObject({ level: "WARN", metadata: { n: 1 } });
    expect(await store.reader.findById("decoded")).toMatchObject({ message: "kept as it is" });
    expect(letters.map((l) => [l.record.offset, l.reason])).toEqual([["2", "unparseable"]]);
    await store.writer.stop();
    await store.reader.stop();
  });
});
