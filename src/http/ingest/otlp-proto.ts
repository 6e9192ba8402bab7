// Decodes an OTLP ExportLogsServiceRequest from protobuf (field numbers of opentelemetry-proto logs/v1).

import { DomainError } from "../../domain/errors.ts";
import type { AttrEntries, AttrValue } from "../../domain/metadata-fit.ts";
import { emptyObject } from "../../domain/metadata-fit.ts";
import type {
  OtlpLogRecord,
  OtlpLogsRequest,
  OtlpResourceLogs,
  OtlpScopeLogs,
} from "../../domain/otlp-logs.ts";
import {
  decodeOrRefuse,
  eachField,
  fixed64NanosToMs,
  hexOf,
  int64Value,
  messageEnd,
  readerOf,
  readString,
  type WireReader,
} from "./proto-wire.ts";

/** AnyValue nesting deeper than this is refused (the metadata keeps 8 levels; this only bounds the recursion). */
export const MAX_VALUE_NESTING = 64;
const LEN = 2;
/** AnyValue's fields and the wire type each must have; a field of another type is skipped, not misread. */
const ANY_VALUE_WIRE: readonly number[] = [-1, LEN, 0, 0, 1, LEN, LEN, LEN];

interface Counter {
  records: number;
  readonly max: number;
}

const keyValue = (r: WireReader, end: number, depth: number): [string, AttrValue] => {
  let key = "";
  let value: AttrValue = null;
  eachField(r, end, (field, wire) => {
    if (field === 1 && wire === LEN) key = readString(r);
    else if (field === 2 && wire === LEN) value = anyValue(r, messageEnd(r), depth + 1);
    else r.skipType(wire);
  });
  return [key, value];
};

const attributesInto = (r: WireReader, into: AttrEntries, depth: number): void => {
  into.push(keyValue(r, messageEnd(r), depth));
};

function anyValue(r: WireReader, end: number, depth: number): AttrValue {
  if (depth > MAX_VALUE_NESTING) throw new RangeError(`values nested more than ${MAX_VALUE_NESTING} deep`);
  let value: AttrValue = null;
  eachField(r, end, (field, wire) => {
    if (ANY_VALUE_WIRE[field] !== wire) return r.skipType(wire);
    switch (field) {
      case 1:
        value = readString(r);
        break;
      case 2:
        value = r.bool();
        break;
      case 3:
        value = int64Value(r);
        break;
      case 4:
        value = r.double();
        if (!Number.isFinite(value)) value = String(value);
        break;
      case 5: {
        const items: AttrValue[] = [];
        eachField(r, messageEnd(r), (f, w) => {
          if (f === 1 && w === LEN) items.push(anyValue(r, messageEnd(r), depth + 1));
          else r.skipType(w);
        });
        value = items;
        break;
      }
      case 6: {
        const object = emptyObject();
        eachField(r, messageEnd(r), (f, w) => {
          if (f !== 1 || w !== LEN) return r.skipType(w);
          const [key, inner] = keyValue(r, messageEnd(r), depth + 1);
          object[key] = inner;
        });
        value = object;
        break;
      }
      case 7:
        // OTLP's JSON encoding writes bytes as base64: the same text whichever encoding was sent.
        value = Buffer.from(r.bytes()).toString("base64");
        break;
      default:
        r.skipType(wire);
    }
  });
  return value;
}

const logRecord = (r: WireReader, end: number): OtlpLogRecord => {
  const rec: OtlpLogRecord = {
    timeMs: 0,
    observedMs: 0,
    severityNumber: 0,
    severityText: "",
    body: undefined,
    attributes: [],
    traceId: "",
    spanId: "",
    eventName: "",
  };
  eachField(r, end, (field, wire) => {
    if (field === 1 && wire === 1) rec.timeMs = fixed64NanosToMs(r);
    else if (field === 11 && wire === 1) rec.observedMs = fixed64NanosToMs(r);
    else if (field === 2 && wire === 0) rec.severityNumber = r.int32();
    else if (field === 3 && wire === LEN) rec.severityText = readString(r);
    else if (field === 5 && wire === LEN) rec.body = anyValue(r, messageEnd(r), 1);
    else if (field === 6 && wire === LEN) attributesInto(r, rec.attributes, 1);
    else if (field === 9 && wire === LEN) rec.traceId = hexOf(r.bytes());
    else if (field === 10 && wire === LEN) rec.spanId = hexOf(r.bytes());
    else if (field === 12 && wire === LEN) rec.eventName = readString(r);
    else r.skipType(wire);
  });
  return rec;
};

const scopeLogs = (r: WireReader, end: number, count: Counter): OtlpScopeLogs => {
  const scope: OtlpScopeLogs = { name: "", version: "", attributes: [], records: [] };
  eachField(r, end, (field, wire) => {
    if (field === 1 && wire === LEN)
      eachField(r, messageEnd(r), (f, w) => {
        if (f === 1 && w === LEN) scope.name = readString(r);
        else if (f === 2 && w === LEN) scope.version = readString(r);
        else if (f === 3 && w === LEN) attributesInto(r, scope.attributes, 1);
        else r.skipType(w);
      });
    else if (field === 2 && wire === LEN) {
      if (++count.records > count.max)
        throw new DomainError("payload_too_large", `a request holds at most ${count.max} log records`);
      scope.records.push(logRecord(r, messageEnd(r)));
    } else r.skipType(wire);
  });
  return scope;
};

const resourceLogs = (r: WireReader, end: number, count: Counter): OtlpResourceLogs => {
  const resource: OtlpResourceLogs = { attributes: [], scopes: [] };
  eachField(r, end, (field, wire) => {
    if (field === 1 && wire === LEN)
      eachField(r, messageEnd(r), (f, w) => {
        if (f === 1 && w === LEN) attributesInto(r, resource.attributes, 1);
        else r.skipType(w);
      });
    else if (field === 2 && wire === LEN) resource.scopes.push(scopeLogs(r, messageEnd(r), count));
    else r.skipType(wire);
  });
  return resource;
};

/** The request's resource logs; a 400 for a body that is not one, a 413 past maxRecords log records. */
export const decodeOtlpProtobuf = (body: Uint8Array, maxRecords: number): OtlpLogsRequest =>
  decodeOrRefuse("OTLP ExportLogsServiceRequest", () => {
    const r = readerOf(body);
    const count: Counter = { records: 0, max: maxRecords };
    const out: OtlpLogsRequest = [];
    eachField(r, r.len, (field, wire) => {
      if (field === 1 && wire === LEN) out.push(resourceLogs(r, messageEnd(r), count));
      else r.skipType(wire);
    });
    return out;
  });
