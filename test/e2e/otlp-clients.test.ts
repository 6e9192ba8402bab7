// OTLP/HTTP logs from the OpenTelemetry JS SDK's own exporters (JSON and protobuf) into dist/logproc's split
// roles on real Kafka and PostgreSQL, every record found again through the gateway.

import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { context, TraceFlags, trace } from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPLogExporter as OtlpJsonExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as OtlpProtoExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  type LogRecordExporter,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import { INGEST_KEY, ShipperStack, type StoredEvent } from "../helpers/shipper-stack.ts";

let stack: ShipperStack;
beforeAll(async () => {
  stack = await ShipperStack.start("otlp");
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

const TRACE_ID = "5b8efff798038103d269b633813fc60c";
const SPAN_ID = "eee19b7ec3c1b174";

/** The severities the SDK sends and the levels they must land as. */
const SEVERITIES: [SeverityNumber, string, string][] = [
  [SeverityNumber.TRACE, "TRACE", "TRACE"],
  [SeverityNumber.DEBUG2, "DEBUG", "DEBUG"],
  [SeverityNumber.INFO, "INFO", "INFO"],
  [SeverityNumber.WARN3, "WARN", "WARN"],
  [SeverityNumber.ERROR, "ERROR", "ERROR"],
  [SeverityNumber.FATAL4, "FATAL", "FATAL"],
];

type Exporter = OtlpJsonExporter | OtlpProtoExporter;

/** Emits `rounds` records of every severity through the SDK, the last of each round inside a span. */
const sendWithSdk = async (exporter: Exporter, service: string, rounds: number): Promise<void> => {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": service, "deployment.environment": "e2e" }),
    processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 64, scheduledDelayMillis: 50 })],
  });
  const logger = provider.getLogger("e2e-scope", "1.2.3");
  const inSpan = trace.setSpanContext(context.active(), {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
  });
  for (let round = 0; round < rounds; round++)
    for (const [severityNumber, severityText, level] of SEVERITIES)
      logger.emit({
        severityNumber,
        severityText,
        body: `${service} ${level} record ${round}`,
        attributes: { round, "http.method": "GET", tags: ["a", "b"], ok: round % 2 === 0 },
        ...(level === "FATAL" ? { context: inSpan } : {}),
      });
  // A structured body (kvlist) becomes JSON text.
  logger.emit({ severityNumber: SeverityNumber.INFO, body: { user: "ada", action: "login" } });
  await provider.forceFlush();
  await provider.shutdown();
};

const checkRecords = (events: StoredEvent[], service: string, rounds: number): void => {
  expect(events).toHaveLength(rounds * SEVERITIES.length + 1);
  for (let round = 0; round < rounds; round++)
    for (const [, , level] of SEVERITIES) {
      const message = `${service} ${level} record ${round}`;
      const event = events.find((e) => e.message === message);
      expect(event?.level).toBe(level);
      expect(event?.source).toBe(service);
      expect(event?.metadata?.round).toBe(round);
      expect(event?.metadata?.["http.method"]).toBe("GET");
      expect(event?.metadata?.tags).toEqual(["a", "b"]);
      expect(event?.metadata?.ok).toBe(round % 2 === 0);
      expect(event?.metadata?.scope).toEqual({ name: "e2e-scope", version: "1.2.3" });
      expect(event?.metadata?.resource).toEqual({ "service.name": service, "deployment.environment": "e2e" });
      if (level === "FATAL") {
        expect(event?.metadata?.trace_id).toBe(TRACE_ID);
        expect(event?.metadata?.span_id).toBe(SPAN_ID);
      } else expect(event?.metadata?.trace_id).toBeUndefined();
      // The SDK stamps each record when it is emitted: within the last minutes, not the time it was stored.
      expect(Date.now() - Date.parse(event?.timestamp ?? "")).toBeLessThan(10 * 60_000);
    }
  const structured = events.find((e) => e.message.startsWith("{"));
  expect(JSON.parse(structured?.message ?? "null")).toEqual({ user: "ada", action: "login" });
};

describe("OTLP/HTTP from the OpenTelemetry JS SDK", () => {
  it("stores every record the JSON exporter sends (@opentelemetry/exporter-logs-otlp-http)", async () => {
    const exporter = new OtlpJsonExporter({
      url: `${stack.producerUrl}/v1/logs`,
      headers: { Authorization: `Bearer ${INGEST_KEY}` },
    });
    await sendWithSdk(exporter, "otlp-json-svc", 20);
    checkRecords(await stack.eventsOf("otlp-json-svc", 121), "otlp-json-svc", 20);
  }, 120_000);

  it("stores every record the protobuf exporter sends, gzip-compressed (@opentelemetry/exporter-logs-otlp-proto)", async () => {
    // The exporters' documented switch for compression; read when the exporter is made.
    process.env.OTEL_EXPORTER_OTLP_LOGS_COMPRESSION = "gzip";
    const exporter = new OtlpProtoExporter({
      url: `${stack.producerUrl}/v1/logs`,
      headers: { "X-API-Key": INGEST_KEY },
    });
    delete process.env.OTEL_EXPORTER_OTLP_LOGS_COMPRESSION;
    await sendWithSdk(exporter, "otlp-proto-svc", 20);
    checkRecords(await stack.eventsOf("otlp-proto-svc", 121), "otlp-proto-svc", 20);
  }, 120_000);

  it("reports a failed export to the SDK when the API key is wrong", async () => {
    const inner = new OtlpProtoExporter({
      url: `${stack.producerUrl}/v1/logs`,
      headers: { Authorization: "Bearer not-the-key" },
    });
    const codes: ExportResultCode[] = [];
    const recording: LogRecordExporter = {
      export: (records, done) =>
        inner.export(records, (result) => {
          codes.push(result.code);
          done(result);
        }),
      shutdown: () => inner.shutdown(),
      forceFlush: () => inner.forceFlush(),
    };
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ "service.name": "otlp-denied" }),
      processors: [new SimpleLogRecordProcessor({ exporter: recording })],
    });
    provider.getLogger("denied").emit({ severityNumber: SeverityNumber.INFO, body: "never stored" });
    await provider.forceFlush();
    await provider.shutdown();
    expect(codes).toEqual([ExportResultCode.FAILED]);
  }, 60_000);
});
