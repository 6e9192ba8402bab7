// Loki push requests in domain terms (from JSON or snappy protobuf alike) and their mapping to logproc events.

import { levelFromWord } from "./level-words.ts";
import type { MetadataBudget } from "./metadata-fit.ts";
import { fitTextPairs } from "./metadata-fit.ts";
import { clipSource, type MappedEvents, type ShippedEvent, UNKNOWN_SERVICE } from "./otlp-logs.ts";

export interface LokiEntry {
  /** Epoch milliseconds; 0 when the entry has none. */
  timeMs: number;
  line: string;
  structuredMetadata: [string, string][];
}

export interface LokiStream {
  labels: [string, string][];
  entries: LokiEntry[];
}

/** Labels that name the level, and the source, in the order they are looked for. */
const LEVEL_KEYS = ["level", "detected_level", "severity"];
const SOURCE_KEYS = ["service_name", "job", "app"];

const find = (pairs: readonly [string, string][], keys: readonly string[]): string | undefined => {
  for (const key of keys)
    for (const [name, value] of pairs) if (name === key && value.trim() !== "") return value;
  return undefined;
};

/**
 * Every entry as an event, in request order: labels and structured metadata → metadata (labels first),
 * level/detected_level (entry's structured metadata before the stream's labels) → level, the first of
 * service_name/job/app → source, the line → message, the entry's time → timestamp.
 */
export const lokiToEvents = (
  streams: LokiStream[],
  budget: MetadataBudget & { maxSourceLength: number },
): MappedEvents => {
  const events: ShippedEvent[] = [];
  let droppedAttributes = 0;
  for (const stream of streams) {
    const source = clipSource(find(stream.labels, SOURCE_KEYS) ?? UNKNOWN_SERVICE, budget.maxSourceLength);
    const streamWord = find(stream.labels, LEVEL_KEYS);
    const streamLevel = (streamWord && levelFromWord(streamWord)) || "INFO";
    for (const entry of stream.entries) {
      const word = find(entry.structuredMetadata, LEVEL_KEYS);
      const level = word === undefined ? streamLevel : levelFromWord(word) || "INFO";
      const fitted = fitTextPairs(stream.labels, entry.structuredMetadata, budget);
      droppedAttributes += fitted.dropped;
      const metadata = fitted.metadata;
      const message = entry.line;
      events.push(
        entry.timeMs > 0
          ? { level, message, source, timestamp: entry.timeMs, metadata }
          : { level, message, source, metadata },
      );
    }
  }
  return { events, droppedAttributes };
};
