// Persist use-case: one bus batch → decoded events stored exactly once in effect; poison → dead letters.

import { UnstorableError } from "../domain/errors.ts";
import { decodeEvent } from "../domain/wire.ts";
import type { BusBatch, BusRecord, DeadLetter, LogSubscriber } from "../ports/log-bus.ts";
import type { LogWriter, SourcedEvent, WriteResult } from "../ports/log-store.ts";

export interface PersistObserver {
  consumed(count: number): void;
  stored(inserted: number, duplicates: number, seconds: number, batchSize: number): void;
  deadLettered(reason: string, count: number): void;
  freshness?(secondsSinceAppend: number): void;
}

export interface PersistDeps {
  writer: LogWriter;
  subscriber: Pick<LogSubscriber, "deadLetter">;
  group: string;
  observer?: PersistObserver;
}

const nextOffsetsOf = (records: BusRecord[]): Map<number, string> => {
  const next = new Map<number, string>();
  for (const r of records) {
    const candidate = BigInt(r.offset) + 1n;
    const current = next.get(r.partition);
    if (current === undefined || BigInt(current) < candidate) next.set(r.partition, String(candidate));
  }
  return next;
};

export const createPersister = (deps: PersistDeps) => {
  const { writer, subscriber, group, observer } = deps;

  const writeIsolating = async (
    topic: string,
    events: SourcedEvent[],
    nextOffsets: Map<number, string>,
  ): Promise<WriteResult> => {
    try {
      return await writer.write({ group, topic, events, nextOffsets });
    } catch (error) {
      if (!(error instanceof UnstorableError)) throw error;
      if (events.length === 1) {
        const only = events[0] as SourcedEvent;
        const record: BusRecord = {
          partition: only.partition,
          offset: only.offset,
          key: only.event.source,
          value: null,
          timestamp: only.event.timestamp,
        };
        await subscriber.deadLetter([{ record, topic, reason: "unstorable", error: error.message }]);
        observer?.deadLettered("unstorable", 1);
        // Still advance the offsets (with no rows) so the partition moves past the poison record.
        return writer.write({ group, topic, events: [], nextOffsets });
      }
      // Halve until the refused event is alone; the rest is stored normally.
      const mid = Math.ceil(events.length / 2);
      const a = await writeIsolating(topic, events.slice(0, mid), new Map());
      const b = await writeIsolating(topic, events.slice(mid), nextOffsets);
      return { inserted: a.inserted + b.inserted, duplicates: a.duplicates + b.duplicates };
    }
  };

  return async (batch: BusBatch): Promise<void> => {
    if (batch.records.length === 0) return;
    const started = performance.now();
    observer?.consumed(batch.records.length);
    const events: SourcedEvent[] = [];
    const letters: DeadLetter[] = [];
    for (const record of batch.records) {
      const decoded = decodeEvent(record.value);
      if (decoded.ok)
        events.push({ event: decoded.event, partition: record.partition, offset: record.offset });
      else letters.push({ record, topic: batch.topic, reason: decoded.reason, error: decoded.error });
    }
    if (letters.length) {
      await subscriber.deadLetter(letters);
      for (const l of letters) observer?.deadLettered(l.reason, 1);
    }
    const result = await writeIsolating(batch.topic, events, nextOffsetsOf(batch.records));
    observer?.stored(result.inserted, result.duplicates, (performance.now() - started) / 1000, events.length);
    if (observer?.freshness) {
      const now = Date.now();
      for (const r of batch.records) observer.freshness((now - r.timestamp) / 1000);
    }
  };
};
