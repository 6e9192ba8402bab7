// Reads an ingest request body safely: content type check, size cap before and after gzip, JSON or NDJSON parse.

import { DomainError, MalformedItem } from "../domain/errors.ts";

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

const tooLarge = (max: number) =>
  new DomainError("payload_too_large", `the request body exceeds ${max} bytes`);

/** A body that cannot be read as JSON text: a 400 naming the body as the field, like every other 400. */
const malformed = (problem: string): DomainError =>
  new DomainError("malformed_json", `the request body ${problem}`, {
    details: [{ field: "body", message: problem }],
  });

const UTF8 = new TextDecoder("utf-8", { fatal: true });

const unreadable = (): never => {
  throw malformed("could not be read (truncated or corrupt compression)");
};

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
    throw malformed("could not be read (truncated or corrupt compression)");
  }
  return Buffer.concat(chunks);
};

/**
 * The body's bytes, gunzipped when Content-Encoding says gzip, at most maxBytes after decompression.
 * `identityEncodings` names encodings a protocol decodes itself (Loki's snappy): read as they are.
 */
export const readBodyBytes = async (
  req: Request,
  maxBytes: number,
  identityEncodings: readonly string[] = [],
): Promise<Uint8Array> => {
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
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return new Uint8Array(0);
  let bytes: Uint8Array;
  if (!gzip && Number.isFinite(declared)) {
    // A declared length bounds what the server reads (and is within the limit): one native read, no stream.
    bytes = new Uint8Array(await req.arrayBuffer().catch(unreadable));
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  } else {
    // The limit applies to the decompressed bytes, counted as they stream out: a gzip bomb stops at maxBytes.
    const stream = gzip ? req.body.pipeThrough(new DecompressionStream("gzip")) : req.body;
    bytes = await collect(stream, maxBytes);
  }
  return bytes;
};

export const readBodyText = async (req: Request, maxBytes: number): Promise<string> =>
  utf8Text(await readBodyBytes(req, maxBytes));

/** Bytes as UTF-8 text; a 400 when they are not UTF-8. */
export const utf8Text = (bytes: Uint8Array): string => {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw malformed("is not valid UTF-8");
  }
};

export const parseJsonBody = (text: string): unknown => {
  if (text.trim() === "") throw malformed("is empty");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw malformed(`is not valid JSON: ${error instanceof Error ? error.message : "invalid JSON"}`);
  }
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
      items.push(
        new MalformedItem(
          `line ${i + 1} is not valid JSON: ${error instanceof Error ? error.message : "invalid"}`,
        ),
      );
    }
  }
  return items;
};
