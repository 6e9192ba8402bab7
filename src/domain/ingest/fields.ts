// Field picking shared by the shipper protocols: dotted or nested paths, level words, safe text for a store.

import { type Level, parseLevel } from "../level.ts";

export type Doc = Record<string, unknown>;

export const isObject = (v: unknown): v is Doc => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Removes and returns the value at a dotted path, written either flat ("log.level": …) or nested
 * ({"log": {"level": …}}); a parent left empty by the removal goes too, so metadata keeps no husks.
 */
export const take = (doc: Doc, path: string): unknown => {
  if (Object.hasOwn(doc, path)) {
    const v = doc[path];
    delete doc[path];
    return v;
  }
  const dot = path.indexOf(".");
  if (dot < 0) return undefined;
  const head = path.slice(0, dot);
  const inner = Object.hasOwn(doc, head) ? doc[head] : undefined;
  if (!isObject(inner)) return undefined;
  const v = take(inner, path.slice(dot + 1));
  if (v !== undefined && Object.keys(inner).length === 0) delete doc[head];
  return v;
};

/** The first path holding a non-empty string (removed from the document); the others stay. */
export const takeText = (doc: Doc, paths: readonly string[]): string | undefined => {
  for (const path of paths) {
    const v = peek(doc, path);
    if (typeof v === "string" && v.trim() !== "") {
      take(doc, path);
      return v;
    }
  }
  return undefined;
};

/** The value at a dotted path without removing it. */
export const peek = (doc: Doc, path: string): unknown => {
  if (Object.hasOwn(doc, path)) return doc[path];
  const dot = path.indexOf(".");
  if (dot < 0) return undefined;
  const head = path.slice(0, dot);
  // Own keys only: a document's "constructor" or "__proto__" is data, not a path into Object.prototype.
  const inner = Object.hasOwn(doc, head) ? doc[head] : undefined;
  return isObject(inner) ? peek(inner, path.slice(dot + 1)) : undefined;
};

/** A dotted path split once, for hot paths: the whole key, and its first part with the path after it. */
export interface DottedPath {
  readonly full: string;
  readonly head: string;
  readonly rest: DottedPath | undefined;
}

export const dottedPath = (path: string): DottedPath => {
  const dot = path.indexOf(".");
  return dot < 0
    ? { full: path, head: path, rest: undefined }
    : { full: path, head: path.slice(0, dot), rest: dottedPath(path.slice(dot + 1)) };
};

/** peek over a path split beforehand (no slicing per call); the same lookups in the same order. */
export const peekPath = (doc: Doc, path: DottedPath): unknown => {
  if (Object.hasOwn(doc, path.full)) return doc[path.full];
  if (path.rest === undefined) return undefined;
  const inner = Object.hasOwn(doc, path.head) ? doc[path.head] : undefined;
  return isObject(inner) ? peekPath(inner, path.rest) : undefined;
};

const LEVEL_WORDS: ReadonlyMap<string, Level> = new Map([
  ["warning", "WARN"],
  ["err", "ERROR"],
  ["critical", "FATAL"],
  ["crit", "FATAL"],
  ["alert", "FATAL"],
  ["emerg", "FATAL"],
  ["emergency", "FATAL"],
  ["panic", "FATAL"],
  ["severe", "ERROR"],
  ["notice", "INFO"],
  ["informational", "INFO"],
  ["information", "INFO"],
  ["verbose", "DEBUG"],
  ["dbg", "DEBUG"],
  ["trc", "TRACE"],
]);

/** A level from the words shippers use (syslog names, "warning", any case); undefined when none fits. */
export const levelFromWord = (word: unknown): Level | undefined => {
  if (typeof word !== "string") return undefined;
  return parseLevel(word) ?? LEVEL_WORDS.get(word.trim().toLowerCase());
};

/** Syslog severity 0..7 → level. */
export const levelFromSeverity = (severity: number): Level => {
  if (severity <= 2) return "FATAL";
  if (severity === 3) return "ERROR";
  if (severity === 4) return "WARN";
  if (severity <= 6) return "INFO";
  return "DEBUG";
};

/** Text a store keeps (NUL and lone surrogates replaced), cut to at most maxBytes of UTF-8. */
export const storableCut = (text: string, maxBytes: number): string => {
  const clean = text.replaceAll("\u0000", "\uFFFD").toWellFormed();
  if (clean.length * 3 <= maxBytes || Buffer.byteLength(clean, "utf8") <= maxBytes) return clean;
  const cut = Buffer.from(clean, "utf8").subarray(0, maxBytes).toString("utf8");
  // A multi-byte character cut in half decodes as U+FFFD (3 bytes): drop it rather than pass the limit.
  return cut.endsWith("\uFFFD") && Buffer.byteLength(cut, "utf8") > maxBytes ? cut.slice(0, -1) : cut;
};

/** A source name within the schema's limit (code points), never empty. */
export const sourceName = (text: string | undefined, fallback: string, maxLength: number): string => {
  // The common case, a short plain name, as it is.
  if (
    text !== undefined &&
    text.length <= maxLength &&
    /^[\x21-\x7e][\x20-\x7e]*$/.test(text) &&
    !text.endsWith(" ")
  )
    return text;
  const clean = (text ?? "").replaceAll("\u0000", "").toWellFormed().trim();
  let out = "";
  // Whole code points only, and within the limit however it is counted (UTF-16 units or code points).
  for (const point of clean === "" ? fallback : clean) {
    if (out.length + point.length > maxLength) break;
    out += point;
  }
  return out;
};

const DOT = 0x2e;

/** Whether an object has an own enumerable key (no array of its keys made to ask). */
export const hasOwnKeys = (doc: Doc): boolean => {
  for (const key in doc) if (Object.hasOwn(doc, key)) return true;
  return false;
};

/**
 * A copy of doc without the given dotted paths (flat keys or nested), parents left empty dropped too. A copy,
 * not `delete`: deleting turns an object into a slow dictionary for every later read and serialization.
 */
export const without = (doc: Doc, paths: readonly string[]): Doc => {
  const out: Doc = {};
  for (const key of Object.keys(doc)) {
    let nested: string[] | undefined;
    let drop = false;
    for (const p of paths) {
      if (p === key) drop = true;
      else if (p.charCodeAt(key.length) === DOT && p.startsWith(key)) {
        nested ??= [];
        nested.push(p.slice(key.length + 1));
      }
    }
    if (drop) continue;
    const value = doc[key];
    if (nested && isObject(value)) {
      const inner = without(value, nested);
      if (hasOwnKeys(inner)) out[key] = inner;
    } else out[key] = value;
  }
  return out;
};
