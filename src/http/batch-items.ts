// Splits a batch body (NDJSON or a JSON array) into items, counting them before any is kept, in time slices.
//
// Every item is counted as it is found and the batch refused as soon as the count passes its limit, so a
// 10 MB body of 5 million tiny items costs a scan of its first items, not 5 million parsed values. Items are
// parsed one slice at a time, yielding between slices, and an item over the per-event limit is never parsed:
// no single JSON.parse holds the event loop for long.

import { DomainError, MAX_REPORTED_ERRORS, MalformedItem, tooManyEvents } from "../domain/errors.ts";
import { createTimeSlicer, type TimeSlicer } from "../services/time-slices.ts";
import { malformed } from "./body.ts";
import { firstByte, jsonArrayElements } from "./json-elements.ts";

export interface BatchLimits {
  /** Most items in one batch (MAX_BATCH_EVENTS). */
  maxEvents: number;
  /** Most bytes of JSON text in one item (MAX_EVENT_BYTES); a longer one is a failed item, never parsed. */
  maxEventBytes: number;
}

const SLICE_TEXT = new TextDecoder("utf-8", { ignoreBOM: true });
const decode = (bytes: Uint8Array): string => SLICE_TEXT.decode(bytes);
const BOM = [0xef, 0xbb, 0xbf];
const hasBom = (b: Uint8Array): boolean => b[0] === BOM[0] && b[1] === BOM[1] && b[2] === BOM[2];

/** Only the first failures carry their own wording: past them only the count is reported. */
const NOT_JSON = new MalformedItem("is not valid JSON");
const oversized = (where: string, limits: BatchLimits): MalformedItem =>
  new MalformedItem(`${where} is larger than ${limits.maxEventBytes} bytes (MAX_EVENT_BYTES)`);

/**
 * JSON.parse with no stack trace captured when it fails: the trace is never shown, and capturing it is most of
 * the cost of a failure (~20 µs: 10,000 malformed lines spent ~200 ms on traces alone).
 */
const parseQuietly = (text: string): unknown => {
  const depth = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return JSON.parse(text);
  } finally {
    Error.stackTraceLimit = depth;
  }
};

const LF = 10;
const isBlank = (byte: number | undefined): boolean =>
  byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0b || byte === 0x0c;
/** Trivial iterations (blank lines) between two looks at the clock. */
const BLANKS_PER_CHECK = 1024;

/** One JSON value per non-blank line; a line that is not JSON is a failed item, not a failed request. */
export const ndjsonItems = async (
  body: Uint8Array,
  limits: BatchLimits,
  slicer: TimeSlicer = createTimeSlicer(),
): Promise<unknown[]> => {
  const items: unknown[] = [];
  let failures = 0;
  let blanks = 0;
  let line = 0;
  for (let pos = hasBom(body) ? 3 : 0; pos < body.length; ) {
    const newline = body.indexOf(LF, pos);
    const stop = newline < 0 ? body.length : newline;
    let start = pos;
    let end = stop;
    pos = stop + 1;
    line++;
    while (start < end && isBlank(body[start])) start++;
    while (end > start && isBlank(body[end - 1])) end--;
    if (start === end) {
      if (++blanks % BLANKS_PER_CHECK === 0 && slicer.due()) await slicer.pause();
      continue;
    }
    if (end - start > limits.maxEventBytes) {
      if (items.length >= limits.maxEvents) throw tooManyEvents(limits.maxEvents);
      items.push(oversized(`line ${line}`, limits));
      continue;
    }
    // Other Unicode blanks (what String.prototype.trim also removes) make a blank line too.
    const text = decode(body.subarray(start, end)).trim();
    if (text === "") continue;
    if (items.length >= limits.maxEvents) throw tooManyEvents(limits.maxEvents);
    try {
      items.push(parseQuietly(text));
    } catch (error) {
      items.push(
        ++failures <= MAX_REPORTED_ERRORS
          ? new MalformedItem(
              `line ${line} is not valid JSON: ${error instanceof Error ? error.message : "invalid"}`,
            )
          : NOT_JSON,
      );
    }
    if (slicer.due()) await slicer.pause();
  }
  return items;
};

/** Elements parsed together: small enough to parse within a slice, large enough to amortize the call. */
const GROUP_BYTES = 64 * 1024;

const parseGroup = (body: Uint8Array, from: number, to: number): unknown[] => {
  try {
    return parseQuietly(`[${decode(body.subarray(from, to))}]`) as unknown[];
  } catch (error) {
    throw malformed(`is not valid JSON: ${error instanceof Error ? error.message : "invalid JSON"}`);
  }
};

const notAnArray = (): DomainError =>
  new DomainError("validation_failed", "a batch must be a JSON array of events", {
    details: [{ field: "body", message: "must be a JSON array" }],
  });

/** Why a body that does not start with `[` is refused: malformed JSON, or JSON that is not an array. */
const refuseNonArray = (body: Uint8Array, limits: BatchLimits): DomainError => {
  // Only a body no larger than one event is parsed to tell the two apart: parsing costs, refusing does not.
  if (body.length > limits.maxEventBytes) return notAnArray();
  try {
    JSON.parse(decode(body));
  } catch (error) {
    return malformed(`is not valid JSON: ${error instanceof Error ? error.message : "invalid JSON"}`);
  }
  return notAnArray();
};

/**
 * The elements of a JSON array body. The array is split by a scan that counts its elements (and stops past
 * the limit) before any is parsed; elements are then parsed in groups. A body that is not valid JSON is a
 * 400 as a whole, except inside an element over the per-event limit, which is refused unread.
 */
export const jsonArrayItems = async (
  body: Uint8Array,
  limits: BatchLimits,
  slicer: TimeSlicer = createTimeSlicer(),
): Promise<unknown[]> => {
  const first = firstByte(body);
  if (first >= body.length) throw malformed("is empty");
  if (body[first] !== 0x5b) throw refuseNonArray(body.subarray(first), limits);
  const items: unknown[] = [];
  let groupFrom = -1;
  let groupTo = -1;
  const flush = async (): Promise<void> => {
    if (groupFrom < 0) return;
    for (const item of parseGroup(body, groupFrom, groupTo)) items.push(item);
    groupFrom = -1;
    if (slicer.due()) await slicer.pause();
  };
  let count = 0;
  for await (const element of jsonArrayElements(body, slicer)) {
    if (++count > limits.maxEvents) throw tooManyEvents(limits.maxEvents);
    if (element.end - element.start > limits.maxEventBytes) {
      await flush();
      items.push(oversized(`item ${count - 1}`, limits));
      continue;
    }
    if (groupFrom < 0) groupFrom = element.start;
    groupTo = element.end;
    if (groupTo - groupFrom >= GROUP_BYTES) await flush();
  }
  await flush();
  return items;
};
