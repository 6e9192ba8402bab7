// Reads an ingest request body safely: content type check, size cap before and after gzip, JSON or NDJSON parse.

import { DomainError, MalformedItem } from "../domain/errors.ts";

export type BodyKind = "json" | "ndjson";

export const bodyKind = (contentType: string | undefined): BodyKind => {
  const type = (contentType ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/json" || type.endsWith("+json") || type === "") return "json";
  if (type === "application/x-ndjson" || type === "application/ndjson" || type === "application/jsonl") return "ndjson";
  throw new DomainError("unsupported_media_type", `Content-Type ${type} is not accepted; send application/json or application/x-ndjson`);
};

const tooLarge = (max: number) => new DomainError("payload_too_large", `the request body exceeds ${max} bytes`);

/** Collects a byte stream, failing as soon as it passes max bytes. */
const collect = async (stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> => {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => {});
        throw tooLarge(max);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new DomainError("malformed_json", "the request body could not be read (truncated or corrupt compression)");
  }
  return Buffer.concat(chunks);
};

export const readBodyText = async (req: Request, maxBytes: number): Promise<string> => {
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  const encoding = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip" && encoding !== "")
    throw new DomainError("unsupported_media_type", `Content-Encoding ${encoding} is not accepted; use gzip or none`);
  if (encoding !== "gzip" && Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return "";
  const stream = encoding === "gzip" ? req.body.pipeThrough(new DecompressionStream("gzip")) : req.body;
  const bytes = await collect(stream, maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DomainError("malformed_json", "the request body is not valid UTF-8");
  }
};

const parseJson = (text: string, where: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : "invalid JSON";
    throw new DomainError("malformed_json", `${where} is not valid JSON: ${detail}`);
  }
};

export const parseJsonBody = (text: string): unknown => {
  if (text.trim() === "") throw new DomainError("malformed_json", "the request body is empty");
  return parseJson(text, "the request body");
};

/** One JSON value per non-empty line; a line that is not JSON becomes a failed item, not a failed request. */
export const parseNdjson = (text: string): unknown[] => {
  const items: unknown[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    try {
      items.push(JSON.parse(line));
    } catch (error) {
      items.push(new MalformedItem(`line ${i + 1} is not valid JSON: ${error instanceof Error ? error.message : "invalid"}`));
    }
  }
  return items;
};
