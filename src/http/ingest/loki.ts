// Loki push: POST /loki/api/v1/push (JSON, gzip; or snappy protobuf), through the native ingest path and guards.

import type { Context, Hono } from "hono";
import { DomainError } from "../../domain/errors.ts";
import { readLokiJson } from "../../domain/loki-json.ts";
import { lokiToEvents } from "../../domain/loki-push.ts";
import { bodyKind, parseJsonBody, readBodyBytes, utf8Text } from "../body.ts";
import { decodeLokiProtobuf, unsnappy } from "./loki-proto.ts";
import { shapeErrors } from "./shape-errors.ts";
import { ingestMapped, metadataBudget, refusalSummary, type ShipperRouteDeps } from "./shipper-deps.ts";

const isProtobuf = (contentType: string | undefined): boolean => {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/x-protobuf" || type === "application/protobuf";
};

/** Loki answers errors as plain text. */
const lokiError = (c: Context, error: DomainError, status: number): Response =>
  c.newResponse(`${error.message}\n`, status as 400, { "content-type": "text/plain; charset=utf-8" });

export const mountLoki = (app: Hono, deps: ShipperRouteDeps): void => {
  const { maxBatchEvents } = deps.ingest.settings;
  const budget = metadataBudget(deps);
  app.post("/loki/api/v1/push", shapeErrors(lokiError), deps.timed("loki"), ...deps.guards, async (c) => {
    const contentType = c.req.header("content-type");
    let streams: ReturnType<typeof readLokiJson>;
    if (isProtobuf(contentType)) {
      // The protobuf body is snappy-compressed by definition; some clients also say so in Content-Encoding.
      const compressed = await readBodyBytes(c.req.raw, deps.maxBodyBytes, ["snappy"]);
      streams = decodeLokiProtobuf(unsnappy(compressed, deps.maxBodyBytes), maxBatchEvents);
    } else {
      if (bodyKind(contentType) !== "json")
        throw new DomainError("unsupported_media_type", "send application/json or application/x-protobuf");
      const text = utf8Text(await readBodyBytes(c.req.raw, deps.maxBodyBytes));
      streams = readLokiJson(parseJsonBody(text), maxBatchEvents);
    }
    const outcome = await ingestMapped(deps, "loki", lokiToEvents(streams, budget));
    // Like Loki: the valid entries are kept, and the refused ones are named in a 400.
    if (outcome.failureCount > 0) return c.text(`${refusalSummary(outcome, "entry", "entries")}\n`, 400);
    return c.body(null, 204);
  });
};
