// Rows for the write path: each event checked and encoded as COPY binary once, ahead of the transaction.

import { UnstorableError } from "../../../domain/errors.ts";
import { findUnstorable, unstorableReason } from "../../../domain/text.ts";
import { MAX_TIME_MS, MIN_TIME_MS } from "../../../domain/time.ts";
import type { SourcedEvent } from "../../../ports/log-store.ts";
import { type ChunkSource, put32 } from "./copy.ts";
import { prepareTsvector, writeTsvector } from "./tsv-binary.ts";

// Native checks first: the regexes of unstorableReason run only for a value that fails them.
const storable = (value: string): boolean => !value.includes("\u0000") && value.isWellFormed();

/** An event ready for the COPY: its claim key and time, and its row's fields after seq and created_at. */
export interface Encoded {
  id: string;
  /** Epoch milliseconds. */
  ts: number;
  /** COPY binary fields ts … kafka_offset, each with its length (a view into a shared slab). */
  tail: Uint8Array;
}

/** PostgreSQL's timestamps count microseconds from 2000-01-01 UTC. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

/** A safe integer as a big-endian int64. */
const putInt64 = (out: Uint8Array, at: number, n: number): void => {
  const hi = Math.floor(n / TWO_32);
  put32(out, at, hi);
  put32(out, at + 4, n - hi * TWO_32);
};

/** Epoch milliseconds as a binary timestamptz; exact for every year 1970..9999 (µs pass 2^53 past 2255). */
export const putTimestamp = (out: Uint8Array, at: number, ms: number): void => {
  const d = ms - PG_EPOCH_MS;
  const hi = Math.floor(d / TWO_32);
  const lo = (d - hi * TWO_32) * 1000;
  const carry = Math.floor(lo / TWO_32);
  put32(out, at, hi * 1000 + carry);
  put32(out, at + 4, lo - carry * TWO_32);
};

/** Rows are encoded into slabs of this size, one after the other: one allocation for hundreds of rows. */
const SLAB_BYTES = 1 << 20;
let slab = Buffer.allocUnsafe(SLAB_BYTES);
let slabAt = 0;

/** A slab with `bound` bytes free at the returned offset. */
const reserve = (bound: number): number => {
  if (slabAt + bound > slab.length) {
    slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bound));
    slabAt = 0;
  }
  return slabAt;
};

/** A text field: its UTF-8 after a length. */
const putText = (out: Buffer, at: number, value: string): number => {
  const n = out.write(value, at + 4, "utf8");
  put32(out, at, n);
  return at + 4 + n;
};

/**
 * Refuses what PostgreSQL would refuse inside the COPY, before it starts (postgres.js reports a refused COPY
 * only through our hook in copy.ts; a lone surrogate would silently become U+FFFD), and encodes the row.
 * JSON.stringify writes NUL and lone surrogates in metadata as \u escapes: refused, as jsonb (before
 * migration 006) refused them, though json takes a NUL escape.
 */
export const encode = ({ event: e, partition, offset }: SourcedEvent): Encoded => {
  const where = () => `event ${JSON.stringify(e.id)} at ${partition}/${offset}`;
  if (!(storable(e.id) && storable(e.source) && storable(e.level) && storable(e.message))) {
    const reason =
      unstorableReason(e.id) ??
      unstorableReason(e.source) ??
      unstorableReason(e.level) ??
      unstorableReason(e.message);
    if (reason) throw new UnstorableError(`${where()}: ${reason}`);
  }
  if (!(Number.isSafeInteger(e.timestamp) && e.timestamp >= MIN_TIME_MS && e.timestamp <= MAX_TIME_MS))
    throw new UnstorableError(`${where()}: timestamp ${e.timestamp} is outside years 1970..9999`);
  let metadata: string | undefined;
  if (e.metadata !== null) {
    metadata = JSON.stringify(e.metadata);
    if (metadata.includes("\\u")) {
      const bad = findUnstorable(e.metadata);
      if (bad) throw new UnstorableError(`${where()}: metadata${bad.path} ${bad.reason}`);
    }
  }
  const bound =
    TAIL_FIXED_BYTES +
    3 * (e.id.length + e.level.length + e.source.length + e.message.length + (metadata?.length ?? 0)) +
    prepareTsvector(e.message);
  const start = reserve(bound);
  const out = slab;
  let at = start;
  put32(out, at, 8);
  putTimestamp(out, at + 4, e.timestamp);
  at = putText(out, at + 12, e.id);
  at = putText(out, at, e.level);
  at = putText(out, at, e.source);
  at = putText(out, at, e.message);
  if (metadata === undefined) {
    put32(out, at, -1);
    at += 4;
  } else {
    // json's binary form is its text (metadata_json, migration 006).
    at = putText(out, at, metadata);
  }
  const n = writeTsvector(out, at + 4);
  put32(out, at, n);
  at += 4 + n;
  put32(out, at, 4);
  put32(out, at + 4, partition);
  put32(out, at + 8, 8);
  const o = Number(offset);
  if (Number.isSafeInteger(o)) putInt64(out, at + 12, o);
  else out.writeBigInt64BE(BigInt(offset), at + 12);
  at += 20;
  slabAt = at;
  return { id: e.id, ts: e.timestamp, tail: out.subarray(start, at) };
};

/** The fixed bytes of a tail: nine lengths, ts, kafka_partition and kafka_offset. */
const TAIL_FIXED_BYTES = 9 * 4 + 8 + 4 + 8;
/** Fields of a row: seq, created_at, then the tail's nine. */
const FIELDS = 11;
/** COPY binary's signature, flags and header extension length. */
const HEADER = Buffer.from([...Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"), 0, 0, 0, 0, 0, 0, 0, 0]);
/** Bytes of a row before its tail: the field count, then seq and created_at with their lengths. */
const ROW_HEAD_BYTES = 2 + 12 + 12;

/** Bytes of one COPY chunk: large enough to keep the socket busy, small enough to write without a pause. */
const CHUNK_BYTES = 256 * 1024;

/**
 * COPY binary data of `n` rows, one chunk at a time, each a whole number of rows: the first chunk starts with
 * the header and the last ends with the trailer. `bound(i)` is at most the bytes row i takes, `put` writes
 * it at `at` and returns where it ends.
 */
const chunks = (
  n: number,
  bound: (i: number) => number,
  put: (chunk: Buffer, at: number, i: number) => number,
): ChunkSource => {
  let i = 0;
  let started = false;
  return () => {
    if (i >= n) return undefined;
    let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let at = 0;
    if (!started) {
      started = true;
      at += HEADER.copy(chunk, 0);
    }
    for (let inChunk = 0; i < n; inChunk++) {
      // Room for the row and for the trailer after it.
      const most = at + bound(i) + 2;
      if (most > chunk.length) {
        if (inChunk > 0) break;
        // One row larger than a chunk: a chunk of its own (after the header, when it is the first).
        const larger = Buffer.allocUnsafe(most);
        chunk.copy(larger, 0, 0, at);
        chunk = larger;
      }
      at = put(chunk, at, i);
      i++;
    }
    if (i >= n) {
      chunk.writeInt16BE(-1, at);
      at += 2;
    }
    return chunk.subarray(0, at);
  };
};

/**
 * COPY binary data of the fresh rows, in batch order with seq from `base + 1` and created_at given in
 * microseconds since 2000-01-01. Binary spares the server parsing every field as text (a tsvector's text
 * most of all): a bare table took rows ~2.8 times as fast.
 */
export const encoder = (rows: Encoded[], base: number, createdAtMicros: bigint): ChunkSource => {
  const createdAt = Buffer.allocUnsafe(8);
  createdAt.writeBigInt64BE(createdAtMicros);
  return chunks(
    rows.length,
    (i) => ROW_HEAD_BYTES + (rows[i] as Encoded).tail.length,
    (chunk, at, i) => {
      const tail = (rows[i] as Encoded).tail;
      chunk[at] = 0;
      chunk[at + 1] = FIELDS;
      put32(chunk, at + 2, 8);
      putInt64(chunk, at + 6, base + i + 1);
      put32(chunk, at + 14, 8);
      chunk.set(createdAt, at + 18);
      chunk.set(tail, at + ROW_HEAD_BYTES);
      return at + ROW_HEAD_BYTES + tail.length;
    },
  );
};

/** COPY binary data of log_event_ids (id, ts) for the claims, in their order. */
export const claimEncoder = (claims: Encoded[]): ChunkSource =>
  chunks(
    claims.length,
    // The field count, the id's length and at most 3 UTF-8 bytes per code unit, ts with its length.
    (i) => 2 + 4 + 3 * (claims[i] as Encoded).id.length + 12,
    (chunk, at, i) => {
      const c = claims[i] as Encoded;
      chunk[at] = 0;
      chunk[at + 1] = 2;
      const end = putText(chunk, at + 2, c.id);
      put32(chunk, end, 8);
      putTimestamp(chunk, end + 4, c.ts);
      return end + 12;
    },
  );
