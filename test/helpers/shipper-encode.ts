// Encodes OTLP ExportLogsServiceRequest and Loki PushRequest bodies by hand (protobufjs Writer), for tests and
// benchmarks that need exact control of every field, bad ones included.

import { Writer } from "protobufjs/minimal.js";
import { compress } from "snappyjs";

export type AnyValueInput =
  | { string: string }
  | { bool: boolean }
  | { int: number }
  | { double: number }
  | { bytes: Uint8Array }
  | { array: AnyValueInput[] }
  | { kvlist: [string, AnyValueInput][] };

export interface RecordInput {
  timeNs?: bigint;
  observedNs?: bigint;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValueInput;
  attributes?: [string, AnyValueInput][];
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  eventName?: string;
}

export interface ResourceInput {
  attributes?: [string, AnyValueInput][];
  scopes: {
    name?: string;
    version?: string;
    attributes?: [string, AnyValueInput][];
    records: RecordInput[];
  }[];
}

const LEN = 2;
const tag = (w: Writer, field: number, wire: number): Writer => w.uint32((field << 3) | wire);

const fixed64 = (w: Writer, field: number, value: bigint): void => {
  tag(w, field, 1)
    .fixed32(Number(value & 0xffffffffn))
    .fixed32(Number(value >> 32n));
};

const anyValue = (w: Writer, v: AnyValueInput): void => {
  if ("string" in v) tag(w, 1, LEN).string(v.string);
  else if ("bool" in v) tag(w, 2, 0).bool(v.bool);
  else if ("int" in v) tag(w, 3, 0).int64(v.int);
  else if ("double" in v) tag(w, 4, 1).double(v.double);
  else if ("bytes" in v) tag(w, 7, LEN).bytes(v.bytes);
  else if ("array" in v) {
    tag(w, 5, LEN).fork();
    for (const item of v.array) {
      tag(w, 1, LEN).fork();
      anyValue(w, item);
      w.ldelim();
    }
    w.ldelim();
  } else {
    tag(w, 6, LEN).fork();
    for (const kv of v.kvlist) keyValue(w, 1, kv);
    w.ldelim();
  }
};

function keyValue(w: Writer, field: number, [key, value]: [string, AnyValueInput]): void {
  tag(w, field, LEN).fork();
  tag(w, 1, LEN).string(key);
  tag(w, 2, LEN).fork();
  anyValue(w, value);
  w.ldelim();
  w.ldelim();
}

const record = (w: Writer, r: RecordInput): void => {
  tag(w, 2, LEN).fork();
  if (r.timeNs !== undefined) fixed64(w, 1, r.timeNs);
  if (r.severityNumber !== undefined) tag(w, 2, 0).int32(r.severityNumber);
  if (r.severityText !== undefined) tag(w, 3, LEN).string(r.severityText);
  if (r.body !== undefined) {
    tag(w, 5, LEN).fork();
    anyValue(w, r.body);
    w.ldelim();
  }
  for (const kv of r.attributes ?? []) keyValue(w, 6, kv);
  if (r.traceId) tag(w, 9, LEN).bytes(r.traceId);
  if (r.spanId) tag(w, 10, LEN).bytes(r.spanId);
  if (r.observedNs !== undefined) fixed64(w, 11, r.observedNs);
  if (r.eventName !== undefined) tag(w, 12, LEN).string(r.eventName);
  w.ldelim();
};

export const encodeOtlpLogs = (resources: ResourceInput[]): Uint8Array => {
  const w = Writer.create();
  for (const res of resources) {
    tag(w, 1, LEN).fork();
    tag(w, 1, LEN).fork();
    for (const kv of res.attributes ?? []) keyValue(w, 1, kv);
    w.ldelim();
    for (const scope of res.scopes) {
      tag(w, 2, LEN).fork();
      tag(w, 1, LEN).fork();
      if (scope.name !== undefined) tag(w, 1, LEN).string(scope.name);
      if (scope.version !== undefined) tag(w, 2, LEN).string(scope.version);
      for (const kv of scope.attributes ?? []) keyValue(w, 3, kv);
      w.ldelim();
      for (const r of scope.records) record(w, r);
      w.ldelim();
    }
    w.ldelim();
  }
  return w.finish();
};

export interface LokiStreamInput {
  labels: string;
  entries: { seconds: number; nanos?: number; line: string; metadata?: [string, string][] }[];
}

/** A PushRequest, snappy-compressed as Loki clients send it (pass snappy: false for the raw protobuf). */
export const encodeLokiPush = (streams: LokiStreamInput[], snappy = true): Uint8Array => {
  const w = Writer.create();
  for (const s of streams) {
    tag(w, 1, LEN).fork();
    tag(w, 1, LEN).string(s.labels);
    for (const e of s.entries) {
      tag(w, 2, LEN).fork();
      tag(w, 1, LEN).fork();
      tag(w, 1, 0).int64(e.seconds);
      if (e.nanos) tag(w, 2, 0).int32(e.nanos);
      w.ldelim();
      tag(w, 2, LEN).string(e.line);
      for (const [name, value] of e.metadata ?? []) {
        tag(w, 3, LEN).fork();
        tag(w, 1, LEN).string(name);
        tag(w, 2, LEN).string(value);
        w.ldelim();
      }
      w.ldelim();
    }
    w.ldelim();
  }
  const raw = w.finish();
  return snappy ? compress(raw) : raw;
};
