// Every Prometheus metric logproc exports, registered on a registry that the role passes in (never the global one).

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Default metrics left out: under Bun, v8.getHeapSpaceStatistics() walks the whole JavaScriptCore heap (about
 * 80 ms with a million live objects) on every scrape, holding the event loop, for figures JavaScriptCore does
 * not have (it has no V8 heap spaces; all but one read 0). nodejs_heap_size_* still report the heap.
 */
export const SKIPPED_DEFAULT_METRICS = [
  "nodejs_heap_space_size_total_bytes",
  "nodejs_heap_space_size_used_bytes",
  "nodejs_heap_space_size_available_bytes",
];

export const createMetrics = (registry: Registry = new Registry(), opts: { defaults?: boolean } = {}) => {
  if (opts.defaults !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of SKIPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  const r = [registry];
  return {
    registry,
    // producer
    ingestionTotal: new Counter({
      name: "log_ingestion_total",
      help: "Events received, by outcome",
      labelNames: ["status"],
      registers: r,
    }),
    ingestionDuration: new Histogram({
      name: "log_ingestion_duration_seconds",
      help: "Ingest request latency",
      labelNames: ["endpoint"],
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    kafkaSent: new Counter({
      name: "kafka_messages_sent_total",
      help: "Messages handed to the bus, by result",
      labelNames: ["result"],
      registers: r,
    }),
    kafkaSendDuration: new Histogram({
      name: "kafka_send_duration_seconds",
      help: "Latency of one bus publish",
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    busSends: new Counter({
      name: "bus_sends_total",
      help: "Sends to the bus, each carrying the events of one or more publishes, by result",
      labelNames: ["result"],
      registers: r,
    }),
    busSendEvents: new Histogram({
      name: "bus_send_events",
      help: "Events carried by one send to the bus",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: r,
    }),
    busPendingEvents: new Gauge({
      name: "bus_pending_events",
      help: "Events accepted and not yet settled by the bus (the in-flight limit applies to this)",
      registers: r,
    }),
    breakerState: new Gauge({
      name: "circuit_breaker_state",
      help: "0 closed, 1 half-open, 2 open",
      labelNames: ["name"],
      registers: r,
    }),
    asyncDropped: new Counter({
      name: "logproc_async_events_dropped_total",
      help: "Events answered 202 by /ingest/async that were given up after every retry failed",
      registers: r,
    }),
    asyncPending: new Gauge({
      name: "logproc_async_events_pending",
      help: "Events answered 202 by /ingest/async still awaiting the bus (retries included)",
      registers: r,
    }),
    attributesDropped: new Counter({
      name: "logproc_ingest_attributes_dropped_total",
      help: "Shipper attributes left out of an event's metadata for want of room, by protocol",
      labelNames: ["protocol"],
      registers: r,
    }),
    rateLimited: new Counter({
      name: "rate_limited_total",
      help: "Requests rejected by the rate limiter",
      labelNames: ["scope"],
      registers: r,
    }),
    syslogMessages: new Counter({
      name: "syslog_messages_total",
      help: "Syslog messages received, by format (rfc5424, rfc3164, malformed: kept whole as the message)",
      labelNames: ["format"],
      registers: r,
    }),
    syslogConnections: new Gauge({
      name: "syslog_connections",
      help: "Open syslog TCP connections",
      registers: r,
    }),
    syslogRefused: new Counter({
      name: "syslog_connections_refused_total",
      help: "Syslog TCP connections closed at once because SYSLOG_MAX_CONNECTIONS were open",
      registers: r,
    }),
    // consumer
    consumed: new Counter({
      name: "kafka_messages_consumed_total",
      help: "Messages read from the bus",
      registers: r,
    }),
    consumptionErrors: new Counter({
      name: "kafka_consumption_errors_total",
      help: "Consumer errors, by reason",
      labelNames: ["reason"],
      registers: r,
    }),
    recordsExpired: new Counter({
      name: "kafka_records_expired_total",
      help: "Records the broker removed (retention) before the consumer stored them",
      registers: r,
    }),
    processingDuration: new Histogram({
      name: "log_processing_duration_seconds",
      help: "Time to store one batch",
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    batchSize: new Histogram({
      name: "consumer_batch_size",
      help: "Events per stored batch",
      buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers: r,
    }),
    lag: new Gauge({
      name: "consumer_lag",
      help: "Messages behind the head, per partition",
      labelNames: ["partition"],
      registers: r,
    }),
    dlq: new Counter({
      name: "dlq_messages_total",
      help: "Messages sent to the dead-letter topic",
      labelNames: ["reason"],
      registers: r,
    }),
    stored: new Counter({ name: "log_events_stored_total", help: "Events newly stored", registers: r }),
    duplicates: new Counter({
      name: "log_events_duplicate_total",
      help: "Redelivered or resent events skipped",
      registers: r,
    }),
    freshness: new Histogram({
      name: "log_freshness_seconds",
      help: "Event accepted on the bus → stored",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: r,
    }),
    // gateway
    queries: new Counter({
      name: "log_queries_total",
      help: "Queries answered, by endpoint",
      labelNames: ["endpoint"],
      registers: r,
    }),
    queryDuration: new Histogram({
      name: "log_query_duration_seconds",
      help: "Query latency",
      labelNames: ["endpoint"],
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    cacheRequests: new Counter({
      name: "cache_requests_total",
      help: "Cache lookups, by result",
      labelNames: ["result"],
      registers: r,
    }),
    tailClients: new Gauge({ name: "tail_clients", help: "Open live-tail streams", registers: r }),
    tailPollers: new Gauge({
      name: "tail_pollers",
      help: "Distinct live-tail filters being polled (one store read per interval each)",
      registers: r,
    }),
    // every role
    httpRequests: new Counter({
      name: "http_requests_total",
      help: "HTTP requests, by role and status",
      labelNames: ["role", "status"],
      registers: r,
    }),
  };
};

export type Metrics = ReturnType<typeof createMetrics>;
export { Registry };
