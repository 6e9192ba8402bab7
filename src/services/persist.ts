// Persist use-case: one bus batch → decoded events stored exactly once in effect; poison → dead letters.

import { UnstorableError, WriteTimeoutError } from "../domain/errors.ts";
import { nextPositions } from "../domain/offsets.ts";
import { decodeRecord, encodeEvent, type RecordDecodeResult } from "../domain/wire.ts";
import type { BusBatch, BusRecord, DeadLetter, LogSubscriber } from "../ports/log-bus.ts";
import type { BatchWriter, SourcedEvent, WriteBatch, WriteResult } from "../ports/log-store.ts";
import { createTimeSlicer } from "./time-slices.ts";

export interface PersistObserver {
  consumed(count: number): void;
  stored(inserted: number, duplicates: number, seconds: number, batchSize: number): void;
  deadLettered(reason: string, count: number): void;
  freshness?(secondsSinceAppend: number): void;
  /** A write timed out: until writes succeed again, batches are written this many events at a time. */
  shrunk?(eventsPerWrite: number): void;
}

export interface PersistDeps {
  writer: BatchWriter;
  subscriber: Pick<LogSubscriber, "deadLetter">;
  group: string;
  observer?: PersistObserver;
}

/** Where a write moves the group's positions (none: the positions stay). */
type Offsets = Pick<WriteBatch, "nextOffsets" | "appendedMs">;

const NO_OFFSETS: Offsets = { nextOffsets: new Map() };

/** The positions a batch moves the store to: none for a bus whose offsets restart with the process. */
const offsetsOf = (batch: BusBatch): Offsets => (batch.transient ? NO_OFFSETS : nextPositions(batch.records));

/** Past this many events per write, the limit set after a timeout is lifted (CONSUMER_BATCH_SIZE's maximum). */
const MAX_PER_WRITE = 1_000_000;

/** Events decoded per step (a packed record's events are decoded together). */
const PREPARE_SLICE = 128;
/** Ahead of its turn, decoding gives the event loop back once it has held it this long (ms). */
const AHEAD_SLICE_MS = 1;

/** A letter's record for one event of a packed record: where the record came from, with the event's own JSON. */
const oneOf = (record: BusRecord, json: string): BusRecord => {
  const { events: _, ...alone } = record;
  return { ...alone, value: Buffer.from(json) };
};

interface Prepared {
  events: SourcedEvent[];
  letters: DeadLetter[];
}

export const createPersister = (deps: PersistDeps) => {
  const { writer, subscriber, group, observer } = deps;
  // The record each decoded event came from: a letter for an event the store refuses carries its original bytes.
  const origin = new WeakMap<SourcedEvent, BusRecord>();
  // Events that came packed with others in one record: their letter carries the event's own encoding.
  const packed = new WeakSet<SourcedEvent>();
  const letterRecord = (event: SourcedEvent): BusRecord => {
    const record = origin.get(event) ?? {
      partition: event.partition,
      offset: event.offset,
      key: event.event.source,
      value: null,
      timestamp: event.event.timestamp,
    };
    return packed.has(event) ? oneOf(record, encodeEvent(event.event)) : record;
  };

  const writeIsolating = async (
    source: Pick<BusBatch, "topic" | "transient">,
    events: SourcedEvent[],
    offsets: Offsets,
  ): Promise<WriteResult> => {
    const { topic, transient } = source;
    try {
      return await writer.write({ group, topic, events, ...offsets, ...(transient ? { transient } : {}) });
    } catch (error) {
      if (!(error instanceof UnstorableError)) throw error;
      if (events.length === 1) {
        const record = letterRecord(events[0] as SourcedEvent);
        await subscriber.deadLetter([{ record, topic, reason: "unstorable", error: error.message }]);
        observer?.deadLettered("unstorable", 1);
        // Still advance the offsets (with no rows) so the partition moves past the poison record.
        return writer.write({ group, topic, events: [], ...offsets, ...(transient ? { transient } : {}) });
      }
      // Halve until the refused event is alone; the rest is stored normally.
      const mid = Math.ceil(events.length / 2);
      const a = await writeIsolating(source, events.slice(0, mid), NO_OFFSETS);
      const b = await writeIsolating(source, events.slice(mid), offsets);
      return { inserted: a.inserted + b.inserted, duplicates: a.duplicates + b.duplicates };
    }
  };

  /** Decodes the records and lets the writer check and encode the events; poison records become letters. */
  const decode = async (batch: BusBatch, sliced: boolean): Promise<Prepared> => {
    const events: SourcedEvent[] = [];
    const letters: DeadLetter[] = [];
    const slicer = createTimeSlicer();
    let sliceStart = performance.now();
    const records = batch.records;
    for (let next = 0; next < records.length; ) {
      // Ahead of its turn, the work goes in short slices so the write in flight is never kept waiting for
      // long (records of the in-process bus, which carry their event, take no time at all); in its turn, a
      // big batch still gives the event loop back every few milliseconds.
      if (sliced) {
        if (performance.now() - sliceStart >= AHEAD_SLICE_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
        }
      } else if (slicer.due()) await slicer.pause();
      const slice: SourcedEvent[] = [];
      while (next < records.length && slice.length < PREPARE_SLICE) {
        const record = records[next++] as BusRecord;
        const decoded: RecordDecodeResult = record.event
          ? { ok: true, events: [{ ok: true, event: record.event }] }
          : decodeRecord(record.value);
        if (!decoded.ok) {
          letters.push({ record, topic: batch.topic, reason: decoded.reason, error: decoded.error });
          continue;
        }
        const many = decoded.events.length > 1 || record.events !== undefined;
        for (const one of decoded.events) {
          if (!one.ok) {
            letters.push({
              record: oneOf(record, one.json),
              topic: batch.topic,
              reason: one.reason,
              error: one.error,
            });
            continue;
          }
          const event: SourcedEvent = {
            event: one.event,
            partition: record.partition,
            offset: record.offset,
            appendedMs: record.timestamp,
          };
          origin.set(event, record);
          if (many) packed.add(event);
          slice.push(event);
        }
      }
      const refused = new Map((writer.prepare?.(slice) ?? []).map((r) => [r.index, r.error]));
      slice.forEach((event, i) => {
        const error = refused.get(i);
        if (error === undefined) events.push(event);
        else letters.push({ record: letterRecord(event), topic: batch.topic, reason: "unstorable", error });
      });
    }
    return { events, letters };
  };

  const ahead = new WeakMap<BusBatch, Promise<Prepared>>();

  /**
   * Events per write while a timed-out write is being retried smaller; undefined = the whole batch. A timeout
   * halves it and fails the batch, which comes again after the subscriber's backoff and is then written in
   * parts of this size; every batch stored in parts doubles it again, until it no longer limits anything.
   */
  let perWrite: number | undefined;

  const writeInParts = async (
    source: Pick<BusBatch, "topic" | "transient">,
    events: SourcedEvent[],
    offsets: Offsets,
  ): Promise<WriteResult> => {
    const size = perWrite;
    if (size === undefined || events.length <= size) return writeTimed(source, events, offsets);
    const total: WriteResult = { inserted: 0, duplicates: 0 };
    for (let from = 0; from < events.length; from += size) {
      const last = from + size >= events.length;
      // Only the last part moves the offsets: parts stored before a failure are deduplicated by id when the
      // batch comes again.
      const r = await writeTimed(source, events.slice(from, from + size), last ? offsets : NO_OFFSETS);
      total.inserted += r.inserted;
      total.duplicates += r.duplicates;
    }
    perWrite = size * 2 >= MAX_PER_WRITE ? undefined : size * 2;
    return total;
  };

  const writeTimed = async (
    source: Pick<BusBatch, "topic" | "transient">,
    events: SourcedEvent[],
    offsets: Offsets,
  ): Promise<WriteResult> => {
    try {
      return await writeIsolating(source, events, offsets);
    } catch (error) {
      if (error instanceof WriteTimeoutError && events.length > 1) {
        perWrite = Math.ceil(events.length / 2);
        observer?.shrunk?.(perWrite);
      }
      throw error;
    }
  };

  const persist = async (batch: BusBatch): Promise<void> => {
    if (batch.records.length === 0) return;
    const started = performance.now();
    const early = ahead.get(batch);
    ahead.delete(batch);
    const { events, letters } = await (early ?? decode(batch, false));
    observer?.consumed(events.length + letters.length);
    if (letters.length) {
      await subscriber.deadLetter(letters);
      for (const l of letters) observer?.deadLettered(l.reason, 1);
    }
    const result = await writeInParts(batch, events, offsetsOf(batch));
    observer?.stored(result.inserted, result.duplicates, (performance.now() - started) / 1000, events.length);
    if (observer?.freshness) {
      const now = Date.now();
      for (const r of batch.records) observer.freshness((now - r.timestamp) / 1000);
    }
  };

  /**
   * The subscriber will hand this batch over next: decode and encode it while the current one is written,
   * then let the writer start on it (the same events array write() will get).
   */
  const prepare = (batch: BusBatch): void => {
    if (batch.records.length === 0 || ahead.has(batch)) return;
    const work = decode(batch, true).then((ready) => {
      writer.stage?.({
        group,
        topic: batch.topic,
        events: ready.events,
        ...offsetsOf(batch),
        ...(batch.transient ? { transient: true } : {}),
      });
      return ready;
    });
    // A failure here surfaces again when the handler awaits it.
    work.catch(() => {});
    ahead.set(batch, work);
  };

  return Object.assign(persist, { prepare });
};
