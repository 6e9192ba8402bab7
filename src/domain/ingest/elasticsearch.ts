// Elasticsearch _bulk: the NDJSON action/document pairs read into operations, and a document mapped to an event.

import { DomainError, MalformedItem } from "../errors.ts";
import type { EventLimits } from "../log-event.ts";
import { parseTime } from "../time.ts";
import { type Doc, isObject, levelFromWord, peek, sourceName, take, takeText } from "./fields.ts";

/** A create/index whose document becomes an event, or an operation answered with a per-item error. */
export type BulkOp =
  | { kind: "doc"; action: "create" | "index"; index: string; id: string | undefined; doc: unknown }
  | { kind: "refused"; action: string; index: string; id: string | undefined; reason: string };

const ACTIONS: ReadonlySet<string> = new Set(["create", "index", "update", "delete"]);

const badRequest = (reason: string): DomainError =>
  new DomainError("validation_failed", reason, { details: [{ field: "body", message: reason }] });

const metaOf = (line: string, n: number): { action: string; meta: Doc } => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw badRequest(`Malformed action/metadata line [${n}], expected a JSON object`);
  }
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
 * Reads a bulk body. A broken action line fails the whole request (as Elasticsearch does); a broken document
 * line becomes that item's error. `update` and `delete` are answered per item: logs are append-only here.
 */
export const parseBulk = (text: string, defaultIndex: string | undefined): BulkOp[] => {
  const ops: BulkOp[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "") continue;
    const { action, meta } = metaOf(line, i + 1);
    const index = typeof meta._index === "string" && meta._index !== "" ? meta._index : defaultIndex;
    if (index === undefined) throw badRequest(`index is missing for the action on line [${i + 1}]`);
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
    const source = (lines[i] ?? "").trim();
    if (i >= lines.length || source === "")
      throw badRequest(`the ${action} action on line [${i}] has no document line after it`);
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
    let doc: unknown;
    try {
      doc = JSON.parse(source);
    } catch (error) {
      doc = new MalformedItem(
        `line ${i + 1} is not valid JSON: ${error instanceof Error ? error.message : "invalid"}`,
      );
    }
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
  const doc: Doc = { ...raw };
  const message = takeText(doc, MESSAGE_PATHS) ?? JSON.stringify(raw);
  let timestamp: number | undefined;
  for (const path of ["@timestamp", "timestamp"]) {
    const ms = parseTime(doc[path]);
    if (ms !== undefined) {
      timestamp = ms;
      take(doc, path);
      break;
    }
  }
  let level: ReturnType<typeof levelFromWord>;
  for (const path of LEVEL_PATHS) {
    const v = levelOf(doc, path);
    if (v) {
      level = v;
      take(doc, path);
      break;
    }
  }
  let source: string | undefined;
  for (const path of SOURCE_PATHS) {
    const v = peekText(doc, path);
    if (v !== undefined) {
      source = v;
      break;
    }
  }
  const event: Doc = {
    level: level ?? "INFO",
    message,
    source: sourceName(source, index, limits.maxSourceLength),
    ...(timestamp === undefined ? {} : { timestamp }),
    ...(Object.keys(doc).length ? { metadata: doc } : {}),
  };
  if (id !== undefined && id.length <= limits.maxIdLength) event.id = id;
  return event;
};

const levelOf = (doc: Doc, path: string) => levelFromWord(peek(doc, path));

const peekText = (doc: Doc, path: string): string | undefined => {
  const v = peek(doc, path);
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
};
