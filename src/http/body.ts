// Reads an ingest request body safely: content type check, size cap before and after gzip, UTF-8 check.

import { isUtf8 } from "node:buffer";
import { DomainError } from "../domain/errors.ts";

export type BodyKind = "json" | "ndjson";

const NDJSON_TYPES: ReadonlySet<string> = new Set([
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
]);

/** A missing Content-Type is taken as JSON; a charset other than UTF-8 is refused rather than misread. */
export const bodyKind = (contentType: string | undefined): BodyKind => {
  const [rawType, ...params] = (contentType ?? "application/json").split(";");
  const type = rawType?.trim().toLowerCase() ?? "";
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith("charset="))
    ?.slice("charset=".length)
    .replaceAll('"', "");
  if (charset !== undefined && charset !== "utf-8" && charset !== "utf8")
    throw new DomainError("unsupported_media_type", `charset ${charset} is not accepted; send UTF-8`);
  if (type === "application/json" || type.endsWith("+json") || type === "") return "json";
  if (NDJSON_TYPES.has(type)) return "ndjson";
  throw new DomainError(
    "unsupported_media_type",
    `Content-Type ${type} is not accepted; send application/json or application/x-ndjson`,
  );
};

/** A size limit and the setting that sets it, so a 413 names both. */
export interface SizeLimit {
  bytes: number;
  setting: string;
}

const tooLarge = (limit: SizeLimit, what: string) =>
  new DomainError("payload_too_large", `${what} exceeds ${limit.bytes} bytes (${limit.setting})`, {
    details: [{ field: "body", message: `more than ${limit.bytes} bytes` }],
  });

/** A body that cannot be read as JSON text: a 400 naming the body as the field, like every other 400. */
export const malformed = (problem: string): DomainError =>
  new DomainError("malformed_json", `the request body ${problem}`, {
    details: [{ field: "body", message: problem }],
  });

const unreadable = (): never => {
  throw malformed("could not be read (truncated or corrupt compression)");
};

/**
 * Collects a byte stream, failing as soon as it passes the limit. With a known length the bytes are copied
 * into one buffer as they arrive: no second copy of the whole body at the end, which for a body of megabytes
 * held the event loop (and the allocator) in one piece.
 */
const collect = async (
  stream: ReadableStream<Uint8Array>,
  limit: SizeLimit,
  what: string,
  expected?: number,
): Promise<Uint8Array> => {
  const into = expected === undefined ? undefined : Buffer.allocUnsafe(expected);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > limit.bytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit, what);
      }
      if (into && size + value.byteLength <= into.length) into.set(value, size);
      else chunks.push(value);
      size += value.byteLength;
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    unreadable();
  }
  if (into && chunks.length === 0) return into.subarray(0, size);
  return into ? Buffer.concat([into.subarray(0, size - sum(chunks)), ...chunks]) : Buffer.concat(chunks);
};

const sum = (chunks: Uint8Array[]): number => chunks.reduce((n, c) => n + c.byteLength, 0);

const BODY_LIMIT_SETTING = "MAX_BODY_BYTES";
/** Bodies up to this size are read in one native call; larger ones chunk by chunk. */
const ONE_READ_BYTES = 1024 * 1024;

/**
 * The body's bytes, gunzipped when Content-Encoding says gzip, at most `limit` bytes after decompression.
 * `identityEncodings` names encodings a protocol decodes itself (Loki's snappy): read as they are. `what`
 * names the thing measured in the 413 ("the request body", "an event").
 */
export const readBodyBytes = async (
  req: Request,
  limit: number | SizeLimit,
  identityEncodings: readonly string[] = [],
  what = "the request body",
): Promise<Uint8Array> => {
  const max = typeof limit === "number" ? { bytes: limit, setting: BODY_LIMIT_SETTING } : limit;
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  const given = (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  const encoding = identityEncodings.includes(given) ? "identity" : given;
  const gzip = encoding === "gzip" || encoding === "x-gzip";
  if (!gzip && encoding !== "identity" && encoding !== "")
    throw new DomainError(
      "unsupported_media_type",
      `Content-Encoding ${encoding} is not accepted; use gzip or none`,
    );
  // gzip adds only a few bytes to incompressible data, so a compressed body over the limit expands past it too.
  if (Number.isFinite(declared) && declared > max.bytes) throw tooLarge(max, what);
  if (!req.body) return new Uint8Array(0);
  if (!gzip && Number.isFinite(declared) && declared <= ONE_READ_BYTES) {
    // A small declared length bounds what the server reads (and is within the limit): one native read.
    const bytes = new Uint8Array(await req.arrayBuffer().catch(unreadable));
    if (bytes.byteLength > max.bytes) throw tooLarge(max, what);
    return bytes;
  }
  // The limit applies to the decompressed bytes, counted as they stream out: a gzip bomb stops at the limit.
  // A large body is read as it streams too: one native read of megabytes would hold the event loop.
  if (gzip) return collect(req.body.pipeThrough(new DecompressionStream("gzip")), max, what);
  return collect(req.body, max, what, Number.isFinite(declared) ? declared : undefined);
};

/** The body's bytes as readBodyBytes reads them, checked to be UTF-8 (so that any part of it decodes alone). */
export const readBody = async (
  req: Request,
  limit: number | SizeLimit,
  what = "the request body",
): Promise<Uint8Array> => {
  const bytes = await readBodyBytes(req, limit, [], what);
  // One native pass (no string built): every slice of a valid body then decodes on its own.
  if (!isUtf8(bytes)) throw malformed("is not valid UTF-8");
  return bytes;
};

const TEXT = new TextDecoder("utf-8");

/** Text of UTF-8 bytes already checked by readBody; a leading byte order mark is dropped. */
export const decodeText = (bytes: Uint8Array): string => TEXT.decode(bytes);

export const readBodyText = async (req: Request, limit: number | SizeLimit, what?: string): Promise<string> =>
  decodeText(await readBody(req, limit, what));

/** Bytes as UTF-8 text; a 400 when they are not UTF-8 (for bodies read by readBodyBytes). */
export const utf8Text = (bytes: Uint8Array): string => {
  if (!isUtf8(bytes)) throw malformed("is not valid UTF-8");
  return decodeText(bytes);
};

export const parseJsonBody = (text: string): unknown => {
  if (text.trim() === "") throw malformed("is empty");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw malformed(`is not valid JSON: ${error instanceof Error ? error.message : "invalid JSON"}`);
  }
};
