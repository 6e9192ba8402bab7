// The events a bus record holds: one, or several when the producer packed a source's events into one record.

import type { LogEvent } from "../../src/domain/log-event.ts";
import { decodeRecord } from "../../src/domain/wire.ts";
import type { BusRecord } from "../../src/ports/log-bus.ts";

/** The events of a record's value (a Kafka message's value, as read from a topic); throws on any refusal. */
export const eventsOfValue = (value: Uint8Array | string | null, where = "a record"): LogEvent[] => {
  const decoded = decodeRecord(value);
  if (!decoded.ok) throw new Error(`undecodable ${where}: ${decoded.error}`);
  return decoded.events.map((e) => {
    if (!e.ok) throw new Error(`undecodable event in ${where}: ${e.error}`);
    return e.event;
  });
};

/** The events of a bus record: the one it carries (in-process bus) or those its value holds. */
export const eventsOf = (record: BusRecord): LogEvent[] =>
  record.event ? [record.event] : eventsOfValue(record.value, `record ${record.partition}/${record.offset}`);

export const eventsOfAll = (records: readonly BusRecord[]): LogEvent[] => records.flatMap(eventsOf);
