// What a shipper protocol's route needs from the producer app: the ingest service, its guards and limits.

import type { MiddlewareHandler } from "hono";
import type { MetadataBudget } from "../../domain/metadata-fit.ts";
import type { MappedEvents } from "../../domain/otlp-logs.ts";
import type { BatchOutcome, Ingest } from "../../services/ingest.ts";

export interface ShipperRouteDeps {
  ingest: Ingest;
  /** API key check and rate limits, as on the native routes. */
  guards: MiddlewareHandler[];
  /** The ingest latency histogram's timer for an endpoint label. */
  timed: (endpoint: string) => MiddlewareHandler;
  maxBodyBytes: number;
  /** Counts attributes dropped from events' metadata, by protocol. */
  onDropped: (protocol: string, count: number) => void;
}

export const NOTHING_SENT: BatchOutcome = {
  totalEvents: 0,
  successCount: 0,
  failureCount: 0,
  errors: [],
  ids: [],
};

/** The first few refusals of a batch as one line, e.g. "record 3: message: must not be empty". */
export const refusalSummary = (outcome: BatchOutcome, noun: string, plural: string): string => {
  const shown = outcome.errors.slice(0, 5).map((e) => `${noun} ${e.index}: ${e.field}: ${e.message}`);
  const more =
    outcome.errors.length > shown.length ? `; and ${outcome.failureCount - shown.length} more` : "";
  return `${outcome.failureCount} of ${outcome.totalEvents} ${plural} refused: ${shown.join("; ")}${more}`;
};

/** The bounds a shipper's labels and attributes are fitted into: the native ingest limits. */
export const metadataBudget = (deps: ShipperRouteDeps): MetadataBudget & { maxSourceLength: number } => {
  const { limits } = deps.ingest.settings;
  return {
    maxBytes: limits.maxMetadataBytes,
    maxDepth: limits.maxMetadataDepth,
    maxSourceLength: limits.maxSourceLength,
  };
};

/**
 * Ingests a shipper's mapped events (counting the attributes dropped to fit them), answered only once the bus
 * holds them: as durable as a native batch.
 */
export const ingestMapped = async (
  deps: ShipperRouteDeps,
  protocol: string,
  mapped: MappedEvents,
): Promise<BatchOutcome> => {
  if (mapped.droppedAttributes > 0) deps.onDropped(protocol, mapped.droppedAttributes);
  return mapped.events.length > 0 ? deps.ingest.batch(mapped.events) : NOTHING_SENT;
};
