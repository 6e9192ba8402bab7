// Decodes Loki's snappy-compressed protobuf PushRequest (logproto: streams{labels, entries{timestamp, line, ...}}).

import { uncompressSync } from "snappy";
import { DomainError } from "../../domain/errors.ts";
import { parseLabels } from "../../domain/loki-labels.ts";
import type { LokiEntry, LokiStream } from "../../domain/loki-push.ts";
import {
  decodeOrRefuse,
  eachField,
  messageEnd,
  readerOf,
  readString,
  type WireReader,
} from "./proto-wire.ts";

const LEN = 2;

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

/** google.protobuf.Timestamp → whole epoch milliseconds. */
const timestamp = (r: WireReader, end: number): number => {
  let seconds = 0;
  let nanos = 0;
  eachField(r, end, (field, wire) => {
    if (field === 1 && wire === 0) seconds = Number(String(r.int64()));
    else if (field === 2 && wire === 0) nanos = r.int32();
    else r.skipType(wire);
  });
  return seconds * 1000 + Math.floor(nanos / 1e6);
};

const labelPair = (r: WireReader, end: number): [string, string] => {
  let name = "";
  let value = "";
  eachField(r, end, (field, wire) => {
    if (field === 1 && wire === LEN) name = readString(r);
    else if (field === 2 && wire === LEN) value = readString(r);
    else r.skipType(wire);
  });
  return [name, value];
};

const entry = (r: WireReader, end: number): LokiEntry => {
  const e: LokiEntry = { timeMs: 0, line: "", structuredMetadata: [] };
  eachField(r, end, (field, wire) => {
    if (field === 1 && wire === LEN) e.timeMs = timestamp(r, messageEnd(r));
    else if (field === 2 && wire === LEN) e.line = readString(r);
    else if (field === 3 && wire === LEN) e.structuredMetadata.push(labelPair(r, messageEnd(r)));
    else r.skipType(wire);
  });
  return e;
};

/** The streams of a decompressed PushRequest; a 400 for a body that is not one, a 413 past maxEntries. */
export const decodeLokiProtobuf = (body: Uint8Array, maxEntries: number): LokiStream[] => {
  let count = 0;
  const streams: { labels: string; entries: LokiEntry[] }[] = decodeOrRefuse("Loki PushRequest", () => {
    const r = readerOf(body);
    const out: { labels: string; entries: LokiEntry[] }[] = [];
    eachField(r, r.len, (field, wire) => {
      if (field !== 1 || wire !== LEN) return r.skipType(wire);
      const stream = { labels: "", entries: [] as LokiEntry[] };
      eachField(r, messageEnd(r), (f, w) => {
        if (f === 1 && w === LEN) stream.labels = readString(r);
        else if (f === 2 && w === LEN) {
          if (++count > maxEntries)
            throw new DomainError("payload_too_large", `a push holds at most ${maxEntries} entries`);
          stream.entries.push(entry(r, messageEnd(r)));
        } else r.skipType(w);
      });
      out.push(stream);
    });
    return out;
  });
  return streams.map((s) => ({ labels: parseLabels(s.labels), entries: s.entries }));
};
