// OTLP/HTTP answers: ExportLogsServiceResponse (partialSuccess) and google.rpc.Status, in the request's encoding.

import type { Context } from "hono";
import { Writer } from "protobufjs/minimal.js";
import { DomainError } from "../../domain/errors.ts";

export type OtlpEncoding = "protobuf" | "json";

const PROTOBUF = "application/x-protobuf";

/** The request's encoding by Content-Type; a 415 for anything but OTLP's two. */
export const otlpEncoding = (contentType: string | undefined): OtlpEncoding => {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === PROTOBUF || type === "application/protobuf") return "protobuf";
  if (type === "application/json") return "json";
  throw new DomainError(
    "unsupported_media_type",
    `Content-Type ${type || "(none)"} is not accepted; OTLP/HTTP sends application/x-protobuf or application/json`,
  );
};

/** The encoding to answer in: the request's when it names one, else JSON (e.g. for a 415). */
export const answerEncoding = (c: Context): OtlpEncoding => {
  try {
    return otlpEncoding(c.req.header("content-type"));
  } catch {
    return "json";
  }
};

const send = (encoding: OtlpEncoding, status: number, proto: Uint8Array, json: unknown): Response =>
  encoding === "protobuf"
    ? new Response(proto, { status, headers: { "content-type": PROTOBUF } })
    : new Response(JSON.stringify(json), { status, headers: { "content-type": "application/json" } });

/** 200 with partialSuccess when some records were refused, with an empty response when none were. */
export const otlpSuccess = (encoding: OtlpEncoding, rejected: number, errorMessage: string): Response => {
  if (rejected === 0) return send(encoding, 200, new Uint8Array(0), {});
  const w = Writer.create();
  w.uint32((1 << 3) | 2).fork();
  w.uint32(1 << 3).int64(rejected);
  w.uint32((2 << 3) | 2).string(errorMessage);
  w.ldelim();
  return send(encoding, 200, w.finish(), {
    partialSuccess: { rejectedLogRecords: String(rejected), errorMessage },
  });
};

/** gRPC status codes of google.rpc.Status, by HTTP status. */
const GRPC_CODE: Record<number, number> = { 400: 3, 401: 16, 404: 5, 413: 3, 415: 3, 429: 8, 503: 14 };

/** An error as google.rpc.Status (code, message), as the OTLP/HTTP spec asks of a failed export. */
export const otlpError = (c: Context, error: DomainError, status: number): Response => {
  const code = GRPC_CODE[status] ?? 13;
  const w = Writer.create();
  w.uint32(1 << 3).int32(code);
  w.uint32((2 << 3) | 2).string(error.message);
  return send(answerEncoding(c), status, w.finish(), { code, message: error.message, details: [] });
};
