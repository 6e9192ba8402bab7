// OTLP logs in domain terms (decoded from protobuf or JSON alike) and their mapping to logproc events.

import { levelFromSeverityNumber, levelFromWord } from "./level-words.ts";
import type { AttrEntries, AttrValue, MetadataBudget } from "./metadata-fit.ts";
import { fitMetadata, prepareGroup } from "./metadata-fit.ts";

export interface OtlpLogRecord {
  /** Epoch milliseconds; 0 when the record has none. */
  timeMs: number;
  observedMs: number;
  severityNumber: number;
  severityText: string;
  body: AttrValue | undefined;
  attributes: AttrEntries;
  /** Lower-case hex, "" when absent. */
  traceId: string;
  spanId: string;
  eventName: string;
}

export interface OtlpScopeLogs {
  name: string;
  version: string;
  attributes: AttrEntries;
  records: OtlpLogRecord[];
}

export interface OtlpResourceLogs {
  attributes: AttrEntries;
  scopes: OtlpScopeLogs[];
}

export type OtlpLogsRequest = OtlpResourceLogs[];

/** An event as the ingest service takes it from any client (validated there like a native one). */
export interface ShippedEvent {
  level: string;
  message: string;
  source: string;
  timestamp?: number;
  metadata: Record<string, AttrValue> | null;
}

export interface MappedEvents {
  events: ShippedEvent[];
  /** Attributes dropped because an event's metadata was over its limits. */
  droppedAttributes: number;
}

/** What OpenTelemetry SDKs report when no service.name is set. */
export const UNKNOWN_SERVICE = "unknown_service";

/** A body as message text: strings as they are, anything else (kvlist, array, numbers) as JSON. */
export const bodyText = (body: AttrValue | undefined): string => {
  if (body === undefined || body === null) return "";
  return typeof body === "string" ? body : JSON.stringify(body);
};

const levelOf = (r: OtlpLogRecord): string =>
  levelFromSeverityNumber(r.severityNumber) ?? levelFromWord(r.severityText) ?? "INFO";

/** Characters (code points) beyond the source limit are cut: a long service name must not lose the event. */
export const clipSource = (source: string, max: number): string =>
  source.length <= max ? source : Array.from(source).slice(0, max).join("");

const serviceName = (attributes: AttrEntries): string | undefined => {
  for (const [key, value] of attributes)
    if (key === "service.name" && typeof value === "string" && value.trim() !== "") return value;
  return undefined;
};

/**
 * Every log record as an event, in request order: severity → level, service.name → source, body → message,
 * time (or observed time) → timestamp; record attributes, trace/span ids and event name at the top of the
 * metadata, the scope and the resource attributes under "scope" and "resource".
 */
export const otlpToEvents = (
  request: OtlpLogsRequest,
  budget: MetadataBudget & { maxSourceLength: number },
): MappedEvents => {
  const events: ShippedEvent[] = [];
  let droppedAttributes = 0;
  for (const resource of request) {
    const source = clipSource(serviceName(resource.attributes) ?? UNKNOWN_SERVICE, budget.maxSourceLength);
    for (const scope of resource.scopes) {
      const scopeEntries: AttrEntries = [];
      if (scope.name) scopeEntries.push(["name", scope.name]);
      if (scope.version) scopeEntries.push(["version", scope.version]);
      for (const entry of scope.attributes) scopeEntries.push(entry);
      // Built once per scope and shared by its records' metadata.
      const groups = [
        prepareGroup("scope", scopeEntries, budget),
        prepareGroup("resource", resource.attributes, budget),
      ];
      for (const record of scope.records) {
        const top: AttrEntries = [];
        if (record.traceId) top.push(["trace_id", record.traceId]);
        if (record.spanId) top.push(["span_id", record.spanId]);
        if (record.eventName) top.push(["event_name", record.eventName]);
        if (record.severityText) top.push(["severity_text", record.severityText]);
        for (const entry of record.attributes) top.push(entry);
        const fitted = fitMetadata(top, groups, budget);
        droppedAttributes += fitted.dropped;
        const time = record.timeMs || record.observedMs;
        // An event record may have no body: its name stands in, so the event is kept with a message.
        const message = bodyText(record.body) || record.eventName || "(empty body)";
        events.push({
          level: levelOf(record),
          message,
          source,
          ...(time > 0 ? { timestamp: time } : {}),
          metadata: fitted.metadata,
        });
      }
    }
  }
  return { events, droppedAttributes };
};
