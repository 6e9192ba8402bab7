// Decodes Loki's snappy-compressed protobuf PushRequest (logproto: streams{labels, entries{timestamp, line, ...}}).

import { uncompressSync } from "snappy";
import { DomainError } from "../../domain/errors.ts";
import { parseLabels } from "../../domain/loki-labels.ts";
import type { LokiEntry, LokiStream } from "../../domain/loki-push.ts";
import {
  decodeOrRefuse,
  int64Value,
  messageEnd,
  nextTag,
  readerOf,
  readString,
  type WireReader,
} from "./proto-wire.ts";

/** The length a Snappy block says it expands to (its varint preamble, at most 2^32 - 1), or -1 if unreadable. */
const declaredLength = (body: Uint8Array): number => {
  let length = 0;
  for (let i = 0; i < 5 && i < body.length; i++) {
    const byte = body[i] ?? 0;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return length <= 0xffffffff ? length : -1;
  }
  return -1;
};

/**
 * Snappy block format, decompressed natively (several times faster than in JS); expanding past maxBytes is
 * refused from the block's preamble, before anything is allocated (a snappy bomb). The output is copied into
 * memory the JS heap owns: an external buffer per request costs more in page faults than it saves.
 */
export const unsnappy = (body: Uint8Array, maxBytes: number): Uint8Array =>
  decodeOrRefuse("snappy-compressed body", () => {
    const length = declaredLength(body);
    if (length < 0) throw new Error("Invalid Snappy bitstream");
    if (length > maxBytes)
      throw new DomainError("payload_too_large", `the request body exceeds ${maxBytes} bytes uncompressed`);
    return uncompressSync(body, { asBuffer: true, copyOutputData: true }) as Buffer;
  });

// Tags (field number << 3 | wire type) of the fields read; any other field is skipped.
const VARINT_1 = (1 << 3) | 0;
const VARINT_2 = (2 << 3) | 0;
const LEN_1 = (1 << 3) | 2;
const LEN_2 = (2 << 3) | 2;
const LEN_3 = (3 << 3) | 2;

/** google.protobuf.Timestamp → whole epoch milliseconds. */
const timestamp = (r: WireReader, end: number): number => {
  let seconds = 0;
  let nanos = 0;
  for (let tag = nextTag(r, end); tag >= 0; tag = nextTag(r, end)) {
    if (tag === VARINT_1) seconds = Number(int64Value(r));
    else if (tag === VARINT_2) nanos = r.int32();
    else r.skipType(tag & 7);
  }
  return seconds * 1000 + Math.floor(nanos / 1e6);
};

const labelPair = (r: WireReader, end: number): [string, string] => {
  let name = "";
  let value = "";
  for (let tag = nextTag(r, end); tag >= 0; tag = nextTag(r, end)) {
    if (tag === LEN_1) name = readString(r);
    else if (tag === LEN_2) value = readString(r);
    else r.skipType(tag & 7);
  }
  return [name, value];
};

const entry = (r: WireReader, end: number): LokiEntry => {
  let timeMs = 0;
  let line = "";
  const structuredMetadata: [string, string][] = [];
  for (let tag = nextTag(r, end); tag >= 0; tag = nextTag(r, end)) {
    if (tag === LEN_1) timeMs = timestamp(r, messageEnd(r));
    else if (tag === LEN_2) line = readString(r);
    else if (tag === LEN_3) structuredMetadata.push(labelPair(r, messageEnd(r)));
    else r.skipType(tag & 7);
  }
  return { timeMs, line, structuredMetadata };
};

/** The streams of a decompressed PushRequest; a 400 for a body that is not one, a 413 past maxEntries. */
export const decodeLokiProtobuf = (body: Uint8Array, maxEntries: number): LokiStream[] => {
  const streams = decodeOrRefuse("Loki PushRequest", () => {
    const r = readerOf(body);
    const out: { labels: string; entries: LokiEntry[] }[] = [];
    let count = 0;
    for (let tag = nextTag(r, r.len); tag >= 0; tag = nextTag(r, r.len)) {
      if (tag !== LEN_1) {
        r.skipType(tag & 7);
        continue;
      }
      const end = messageEnd(r);
      const stream = { labels: "", entries: [] as LokiEntry[] };
      for (let t = nextTag(r, end); t >= 0; t = nextTag(r, end)) {
        if (t === LEN_1) stream.labels = readString(r);
        else if (t === LEN_2) {
          if (++count > maxEntries)
            throw new DomainError("payload_too_large", `a push holds at most ${maxEntries} entries`);
          stream.entries.push(entry(r, messageEnd(r)));
        } else r.skipType(t & 7);
      }
      out.push(stream);
    }
    return out;
  });
  return streams.map((s) => ({ labels: parseLabels(s.labels), entries: s.entries }));
};
