// OTLP/HTTP logs: POST /v1/logs (protobuf or JSON, gzip), through the native ingest path and its guards.

import type { Hono } from "hono";
import { readOtlpJson } from "../../domain/otlp-json.ts";
import { otlpToEvents } from "../../domain/otlp-logs.ts";
import { parseJsonBody, readBodyBytes, utf8Text } from "../body.ts";
import { decodeOtlpProtobuf } from "./otlp-proto.ts";
import { otlpEncoding, otlpError, otlpSuccess } from "./otlp-response.ts";
import { shapeErrors } from "./shape-errors.ts";
import { ingestMapped, metadataBudget, refusalSummary, type ShipperRouteDeps } from "./shipper-deps.ts";

export const mountOtlp = (app: Hono, deps: ShipperRouteDeps): void => {
  const { maxBatchEvents } = deps.ingest.settings;
  const budget = metadataBudget(deps);
  app.post("/v1/logs", shapeErrors(otlpError), deps.timed("otlp"), ...deps.guards, async (c) => {
    const encoding = otlpEncoding(c.req.header("content-type"));
    const bytes = await readBodyBytes(c.req.raw, deps.maxBodyBytes);
    const request =
      encoding === "protobuf"
        ? decodeOtlpProtobuf(bytes, maxBatchEvents)
        : readOtlpJson(parseJsonBody(utf8Text(bytes)), maxBatchEvents);
    const outcome = await ingestMapped(deps, "otlp", otlpToEvents(request, budget));
    const message = outcome.failureCount > 0 ? refusalSummary(outcome, "record", "records") : "";
    return otlpSuccess(encoding, outcome.failureCount, message);
  });
};
