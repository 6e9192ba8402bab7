// Elasticsearch _bulk: the NDJSON action/document pairs read into operations, and a document mapped to an event.

import { DomainError, MalformedItem } from "../errors.ts";
import type { EventLimits } from "../log-event.ts";
import { parseTime } from "../time.ts";
import { type Doc, isObject, levelFromWord, peek, sourceName, without } from "./fields.ts";

/** A create/index whose document becomes an event, or an operation answered with a per-item error. */
export type BulkOp =
  | { kind: "doc"; action: "create" | "index"; index: string; id: string | undefined; doc: unknown }
  | { kind: "refused"; action: string; index: string; id: string | undefined; reason: string };

const ACTIONS: ReadonlySet<string> = new Set(["create", "index", "update", "delete"]);

const badRequest = (reason: string): DomainError =>
  new DomainError("validation_failed", reason, { details: [{ field: "body", message: reason }] });

const metaOf = (parsed: unknown, n: number): { action: string; meta: Doc } => {
  if (parsed instanceof MalformedItem)
    throw badRequest(`Malformed action/metadata line [${n}], expected a JSON object`);
  const keys = isObject(parsed) ? Object.keys(parsed) : [];
  const action = keys[0];
  if (!isObject(parsed) || keys.length !== 1 || action === undefined)
    throw badRequest(`Malformed action/metadata line [${n}], expected an object with one action`);
  if (!ACTIONS.has(action))
    throw badRequest(
      `Malformed action/metadata line [${n}], expected one of [create, delete, index, update] but found [${action}]`,
    );
  const meta = parsed[action];
  if (!isObject(meta)) throw badRequest(`Malformed action/metadata line [${n}], expected an object`);
  return { action, meta };
};

/**
 * Every non-empty line parsed, in one native JSON.parse of the lines joined as an array when the body is
 * well formed (the common case: about twice as fast as a parse per line); a MalformedItem where a line is not
 * JSON. A line holding more or less than one value makes the joined count differ: then each line is parsed.
 */
const parseLines = (lines: string[]): unknown[] => {
  try {
    const all: unknown = JSON.parse(`[${lines.join(",")}]`);
    if (Array.isArray(all) && all.length === lines.length) return all;
  } catch {
    // some line is not JSON: find which, line by line
  }
  return lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (error) {
      return new MalformedItem(
        `line ${i + 1} is not valid JSON: ${error instanceof Error ? error.message : "invalid"}`,
      );
    }
  });
};

/**
 * Reads a bulk body. A broken action line fails the whole request (as Elasticsearch does); a broken document
 * line becomes that item's error. `update` and `delete` are answered per item: logs are append-only here.
 */
export const parseBulk = (text: string, defaultIndex: string | undefined): BulkOp[] => {
  const ops: BulkOp[] = [];
  const lines: string[] = [];
  const numbers: number[] = [];
  const raw = text.split("\n");
  for (let i = 0; i < raw.length; i++) {
    const line = (raw[i] ?? "").trim();
    if (line === "") continue;
    lines.push(line);
    numbers.push(i + 1);
  }
  const values = parseLines(lines);
  for (let i = 0; i < values.length; i++) {
    const n = numbers[i] ?? 0;
    const { action, meta } = metaOf(values[i], n);
    const index = typeof meta._index === "string" && meta._index !== "" ? meta._index : defaultIndex;
    if (index === undefined) throw badRequest(`index is missing for the action on line [${n}]`);
    const id = typeof meta._id === "string" && meta._id !== "" ? meta._id : undefined;
    if (action === "delete") {
      ops.push({
        kind: "refused",
        action,
        index,
        id,
        reason: "delete is not supported: logs are append-only",
      });
      continue;
    }
    i++;
    if (i >= values.length)
      throw badRequest(`the ${action} action on line [${n}] has no document line after it`);
    if (action === "update") {
      ops.push({
        kind: "refused",
        action,
        index,
        id,
        reason: "update is not supported: logs are append-only",
      });
      continue;
    }
    const doc = values[i];
    ops.push({ kind: "doc", action: action === "create" ? "create" : "index", index, id, doc });
  }
  return ops;
};

const MESSAGE_PATHS = ["message", "log", "msg"] as const;
const LEVEL_PATHS = ["level", "log.level", "severity"] as const;
const SOURCE_PATHS = ["service.name", "kubernetes.container_name", "host.name"] as const;

/**
 * One bulk document as a native event: @timestamp/timestamp, message/log/msg, level/log.level/severity, the
 * source from service.name, kubernetes.container_name, host.name or the index; every other field is metadata.
 * The source fields also stay in metadata (they are facts about the event, not only its label). A document
 * with no message text is kept whole as its message. A time or level we cannot read stays in metadata.
 */
export const bulkDocToEvent = (
  raw: unknown,
  index: string,
  id: string | undefined,
  limits: Pick<EventLimits, "maxSourceLength" | "maxIdLength">,
): unknown => {
  if (!isObject(raw)) return raw;
  const used: string[] = [];
  const message = firstText(raw, MESSAGE_PATHS, used) ?? JSON.stringify(raw);
  let timestamp: number | undefined;
  for (const path of ["@timestamp", "timestamp"]) {
    timestamp = Object.hasOwn(raw, path) ? parseTime(raw[path]) : undefined;
    if (timestamp !== undefined) {
      used.push(path);
      break;
    }
  }
  let level: ReturnType<typeof levelFromWord>;
  for (const path of LEVEL_PATHS) {
    level = levelOf(raw, path);
    if (level) {
      used.push(path);
      break;
    }
  }
  let source: string | undefined;
  for (const path of SOURCE_PATHS) {
    source = peekText(raw, path);
    if (source !== undefined) break;
  }
  const metadata = used.length ? without(raw, used) : raw;
  const event: Doc = {
    level: level ?? "INFO",
    message,
    source: sourceName(source, index, limits.maxSourceLength),
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
  if (id !== undefined && id.length <= limits.maxIdLength) event.id = id;
  return event;
};

/** The first of the paths holding non-blank text; its path is added to `used`. */
const firstText = (doc: Doc, paths: readonly string[], used: string[]): string | undefined => {
  for (const path of paths) {
    const v = peekText(doc, path);
    if (v !== undefined) {
      used.push(path);
      return v;
    }
  }
  return undefined;
};

const levelOf = (doc: Doc, path: string) => levelFromWord(peek(doc, path));

const peekText = (doc: Doc, path: string): string | undefined => {
  const v = peek(doc, path);
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
};
