// Elasticsearch _bulk: the NDJSON action/document pairs read into operations, and a document mapped to an event.

import { DomainError, MalformedItem } from "../errors.ts";
import type { EventLimits } from "../log-event.ts";
import { joinWithin } from "../text.ts";
import { parseTime } from "../time.ts";
import {
  type Doc,
  dottedPath,
  hasOwnKeys,
  isObject,
  levelFromWord,
  peekPath,
  sourceName,
  without,
} from "./fields.ts";

/** A create/index whose document becomes an event, or an operation answered with a per-item error. */
export type BulkOp =
  | { kind: "doc"; action: "create" | "index"; index: string; id: string | undefined; doc: unknown }
  | { kind: "refused"; action: string; index: string; id: string | undefined; reason: string };

const ACTIONS: ReadonlySet<string> = new Set(["create", "index", "update", "delete"]);

const badRequest = (reason: string): DomainError =>
  new DomainError("validation_failed", reason, { details: [{ field: "body", message: reason }] });

/** What an action line says: the action, and the index and id it names (the default index filled in). */
interface Action {
  action: string;
  index: string;
  id: string | undefined;
}

const readAction = (line: string, n: number, defaultIndex: string | undefined): Action => {
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
  const index = typeof meta._index === "string" && meta._index !== "" ? meta._index : defaultIndex;
  if (index === undefined) throw badRequest(`index is missing for the action on line [${n}]`);
  const id = typeof meta._id === "string" && meta._id !== "" ? meta._id : undefined;
  return { action, index, id };
};

/**
 * The document lines parsed, in one native JSON.parse of them joined as an array when they are well formed
 * (the common case: about twice as fast as a parse per line); a MalformedItem where a line is not JSON,
 * naming it by `ordinals` (its place among the body's non-blank lines). A line holding more or less than one
 * value makes the joined count differ: then each line is parsed.
 */
const parseLines = (lines: string[], ordinals: number[]): unknown[] => {
  try {
    const all: unknown = JSON.parse(joinWithin("[", lines, ",", "]"));
    if (Array.isArray(all) && all.length === lines.length) return all;
  } catch {
    // some line is not JSON: find which, line by line
  }
  return lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (error) {
      return new MalformedItem(
        `line ${ordinals[i]} is not valid JSON: ${error instanceof Error ? error.message : "invalid"}`,
      );
    }
  });
};

type DocOp = Extract<BulkOp, { kind: "doc" }>;

/**
 * Reads a bulk body. A broken action line fails the whole request (as Elasticsearch does); a broken document
 * line becomes that item's error. `update` and `delete` are answered per item: logs are append-only here.
 * Action lines are read one by one, and a line equal to the action line before it is not read again:
 * shippers repeat the same `{"create":{"_index":...}}` before every document. Document lines are parsed
 * together afterwards (an update's is skipped unread).
 */
export const parseBulk = (text: string, defaultIndex: string | undefined): BulkOp[] => {
  const raw = text.split("\n");
  let at = 0;
  let ordinal = 0;
  /** The next non-blank line, trimmed; `at` is then its line number. */
  const nextLine = (): string | undefined => {
    while (at < raw.length) {
      const line = (raw[at++] ?? "").trim();
      if (line !== "") {
        ordinal++;
        return line;
      }
    }
    return undefined;
  };
  const ops: BulkOp[] = [];
  const docOps: DocOp[] = [];
  const docLines: string[] = [];
  const docOrdinals: number[] = [];
  let lastLine: string | undefined;
  let last: Action | undefined;
  for (let line = nextLine(); line !== undefined; line = nextLine()) {
    const n = at;
    if (line !== lastLine || last === undefined) {
      last = readAction(line, n, defaultIndex);
      lastLine = line;
    }
    const { action, index, id } = last;
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
    const doc = nextLine();
    if (doc === undefined)
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
    const op: DocOp = { kind: "doc", action: action === "create" ? "create" : "index", index, id, doc: null };
    ops.push(op);
    docOps.push(op);
    docLines.push(doc);
    docOrdinals.push(ordinal);
  }
  const docs = parseLines(docLines, docOrdinals);
  for (let i = 0; i < docOps.length; i++) (docOps[i] as DocOp).doc = docs[i];
  return ops;
};

const MESSAGE_PATHS = ["message", "log", "msg"].map(dottedPath);
const TIME_KEYS = ["@timestamp", "timestamp"];
const LEVEL_PATHS = ["level", "log.level", "severity"].map(dottedPath);
const SOURCE_PATHS = ["service.name", "kubernetes.container_name", "host.name"].map(dottedPath);

/** Non-blank text; a first character that is visible ASCII says so without trimming a copy. */
const isText = (v: unknown): v is string => {
  if (typeof v !== "string") return false;
  const first = v.charCodeAt(0);
  return (first > 0x20 && first < 0x7f) || v.trim() !== "";
};

/**
 * One bulk document as a native event: @timestamp/timestamp, message/log/msg, level/log.level/severity, the
 * source from service.name, kubernetes.container_name, host.name or the index; every other field is metadata.
 * The source fields also stay in metadata (they are facts about the event, not only its label). A document
 * with no message text is kept whole as its message. A time or level we cannot read stays in metadata.
 * Paths are split once at load, and the event is built without intermediate objects: this runs per document.
 */
export const bulkDocToEvent = (
  raw: unknown,
  index: string,
  id: string | undefined,
  limits: Pick<EventLimits, "maxSourceLength" | "maxIdLength">,
): unknown => {
  if (!isObject(raw)) return raw;
  const used: string[] = [];
  let message: string | undefined;
  for (const path of MESSAGE_PATHS) {
    const v = peekPath(raw, path);
    if (isText(v)) {
      message = v;
      used.push(path.full);
      break;
    }
  }
  let timestamp: number | undefined;
  for (const key of TIME_KEYS) {
    timestamp = Object.hasOwn(raw, key) ? parseTime(raw[key]) : undefined;
    if (timestamp !== undefined) {
      used.push(key);
      break;
    }
  }
  let level: ReturnType<typeof levelFromWord>;
  for (const path of LEVEL_PATHS) {
    level = levelFromWord(peekPath(raw, path));
    if (level) {
      used.push(path.full);
      break;
    }
  }
  let source: string | undefined;
  for (const path of SOURCE_PATHS) {
    const v = peekPath(raw, path);
    if (isText(v)) {
      source = v;
      break;
    }
  }
  const metadata = used.length ? without(raw, used) : raw;
  const event: Doc = {
    level: level ?? "INFO",
    message: message ?? JSON.stringify(raw),
    source: sourceName(source, index, limits.maxSourceLength),
  };
  if (timestamp !== undefined) event.timestamp = timestamp;
  if (hasOwnKeys(metadata)) event.metadata = metadata;
  if (id !== undefined && id.length <= limits.maxIdLength) event.id = id;
  return event;
};
