// Reading ingest bodies: content types, size limits before and after gzip, JSON and NDJSON parsing.

import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { DomainError } from "../../src/domain/errors.ts";
import { bodyKind, parseJsonBody, readBodyText } from "../../src/http/body.ts";

const post = (
  body: string | Uint8Array | ReadableStream<Uint8Array> | null,
  headers: Record<string, string> = {},
): Request => new Request("http://producer.test/ingest", { method: "POST", body, headers });

/** A body that arrives in chunks and declares no length, as a chunked upload does. */
const streamed = (chunks: Uint8Array[]): ReadableStream<Uint8Array> =>
  new ReadableStream({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });

const failure = async (run: () => unknown): Promise<DomainError> => {
  try {
    await run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError");
};

describe("bodyKind", () => {
  test.each([
    [undefined, "json"],
    ["application/json", "json"],
    ["Application/JSON; charset=UTF-8", "json"],
    ['application/json; charset="utf-8"', "json"],
    ["application/vnd.logs+json", "json"],
    ["application/x-ndjson", "ndjson"],
    ["application/ndjson", "ndjson"],
    ["application/jsonl; charset=utf8", "ndjson"],
  ])("%p reads as %s", (type, kind) => {
    expect(bodyKind(type)).toBe(kind as "json" | "ndjson");
  });

  test.each([
    ["text/plain"],
    ["application/xml"],
    ["multipart/form-data; boundary=x"],
    ["application/x-www-form-urlencoded"],
  ])("%p is an unsupported media type", async (type) => {
    expect((await failure(() => bodyKind(type))).code).toBe("unsupported_media_type");
  });

  test("a charset other than UTF-8 is refused rather than misread", async () => {
    expect((await failure(() => bodyKind("application/json; charset=iso-8859-1"))).code).toBe(
      "unsupported_media_type",
    );
  });
});

describe("readBodyText", () => {
  test("returns the text of a plain body", async () => {
    expect(await readBodyText(post('{"a":"é"}'), 1024)).toBe('{"a":"é"}');
  });

  test("an absent body reads as empty text", async () => {
    expect(await readBodyText(post(null), 1024)).toBe("");
  });

  test("a declared length over the limit is refused before reading", async () => {
    const req = post("x".repeat(2000), { "content-length": "2000" });
    expect((await failure(() => readBodyText(req, 1000))).code).toBe("payload_too_large");
    expect(req.bodyUsed).toBe(false);
  });

  test("a body exactly at the limit is read", async () => {
    expect((await readBodyText(post("x".repeat(1000)), 1000)).length).toBe(1000);
  });

  test("a streamed body is cut off as soon as it passes the limit", async () => {
    const chunk = new Uint8Array(400).fill(0x61);
    const req = post(streamed([chunk, chunk, chunk, chunk]));
    expect((await failure(() => readBodyText(req, 1000))).code).toBe("payload_too_large");
  });

  test("invalid UTF-8 is a 400, not replacement characters", async () => {
    const bad = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    expect((await failure(() => readBodyText(post(bad), 1024))).code).toBe("malformed_json");
  });

  test("a gzip body is decompressed", async () => {
    const text = JSON.stringify([{ message: "x".repeat(5000) }]);
    const req = post(gzipSync(text), { "content-encoding": "gzip" });
    expect(await readBodyText(req, 10_000)).toBe(text);
  });

  test("x-gzip is the same as gzip", async () => {
    expect(await readBodyText(post(gzipSync("{}"), { "content-encoding": "x-gzip" }), 100)).toBe("{}");
  });

  test("the limit applies to the decompressed size", async () => {
    const req = post(gzipSync("x".repeat(5000)), { "content-encoding": "gzip" });
    expect((await failure(() => readBodyText(req, 1000))).code).toBe("payload_too_large");
  });

  test("a gzip bomb (64 MiB of zeros in ~64 KiB) stops at the limit", async () => {
    const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024), { level: 9 });
    expect(bomb.byteLength).toBeLessThan(100 * 1024);
    const req = post(bomb, { "content-encoding": "gzip" });
    expect((await failure(() => readBodyText(req, 1024 * 1024))).code).toBe("payload_too_large");
  });

  test("corrupt or truncated gzip is a 400", async () => {
    const gz = gzipSync(JSON.stringify({ a: "b".repeat(1000) }));
    const truncated = gz.subarray(0, gz.byteLength - 20);
    expect(
      (await failure(() => readBodyText(post(truncated, { "content-encoding": "gzip" }), 10_000))).code,
    ).toBe("malformed_json");
    const notGzip = post("plain text", { "content-encoding": "gzip" });
    expect((await failure(() => readBodyText(notGzip, 10_000))).code).toBe("malformed_json");
  });

  test("other content encodings are unsupported", async () => {
    const req = post("{}", { "content-encoding": "br" });
    expect((await failure(() => readBodyText(req, 100))).code).toBe("unsupported_media_type");
  });
});

describe("parseJsonBody", () => {
  test("parses any JSON value", () => {
    expect(parseJsonBody(' {"a":[1,2]} ')).toEqual({ a: [1, 2] });
    expect(parseJsonBody("[]")).toEqual([]);
  });

  test.each([[""], ["   "], ["{"], ['{"a":1,}'], ["NaN"], ["{'a':1}"]])(
    "%p is malformed JSON",
    async (text) => {
      expect((await failure(() => parseJsonBody(text))).code).toBe("malformed_json");
    },
  );

  test("JSON escapes that make a lone surrogate parse; the event schema refuses them later", () => {
    expect(parseJsonBody('"\\ud800"')).toBe("\ud800");
  });
});
