// An event's metadata built from a shipper's attributes within the metadata limits: what does not fit is dropped
// and counted (a shipper cannot trim its attributes to our limits, so refusing the event would lose it).

/** A JSON value as shippers' attribute values decode to (OTLP AnyValue, Loki labels). */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type AttrEntries = [string, AttrValue][];

export interface MetadataBudget {
  maxBytes: number;
  maxDepth: number;
}

export interface FittedMetadata {
  metadata: Record<string, AttrValue> | null;
  /** Attributes left out for want of room (the metadata then says how many in "dropped_attributes"). */
  dropped: number;
}

/** A group of attributes nested under one key (OTLP's resource and scope), prepared once for many events. */
export interface AttrGroup {
  name: string;
  entries: AttrEntries;
  object: Record<string, AttrValue>;
  /** At least the UTF-8 size of `"name":{...},`. */
  bound: number;
}

const bytes = (text: string): number => Buffer.byteLength(text, "utf8");
const DROPPED_KEY = "dropped_attributes";
/** Room kept for `"dropped_attributes":123456789,` when something must be dropped. */
const DROPPED_RESERVE = 32;

export const emptyObject = (): Record<string, AttrValue> => Object.create(null) as Record<string, AttrValue>;

/**
 * At least the UTF-8 size of JSON.stringify(value) (six bytes per UTF-16 unit covers escapes and multi-byte
 * characters), or -1 when the value nests deeper than `depth` levels (as jsonDepth counts).
 */
const boundOf = (value: AttrValue, depth: number): number => {
  if (value === null) return 4;
  switch (typeof value) {
    case "string":
      return 2 + 6 * value.length;
    case "number":
      return 25;
    case "boolean":
      return 5;
    default: {
      if (depth < 1) return -1;
      let size = 2;
      if (Array.isArray(value)) {
        for (const item of value) {
          const inner = boundOf(item, depth - 1);
          if (inner < 0) return -1;
          size += inner + 1;
        }
        return size;
      }
      for (const key of Object.keys(value)) {
        const inner = boundOf(value[key] ?? null, depth - 1);
        if (inner < 0) return -1;
        size += 6 * key.length + 4 + inner;
      }
      return size;
    }
  }
};

/** Values nested deeper than `depth` (as jsonDepth counts) become their JSON text, which always fits a level. */
const clampDepth = (value: AttrValue, depth: number): AttrValue => {
  if (value === null || typeof value !== "object") return value;
  if (depth <= 1) return JSON.stringify(value);
  if (Array.isArray(value)) return value.map((v) => clampDepth(v, depth - 1));
  const out = emptyObject();
  for (const key of Object.keys(value)) out[key] = clampDepth(value[key] ?? null, depth - 1);
  return out;
};

/** An entry within `depth`, and the bound of `"key":value,`. */
const prepareEntry = (key: string, value: AttrValue, depth: number): [AttrValue, number] => {
  let bound = boundOf(value, depth);
  if (bound < 0) {
    value = clampDepth(value, depth);
    bound = boundOf(value, depth);
  }
  return [value, 6 * key.length + 4 + bound];
};

/** A group nested under `name` (one level below the top), clamped and measured once. */
export const prepareGroup = (name: string, entries: AttrEntries, budget: MetadataBudget): AttrGroup => {
  const object = emptyObject();
  const clamped: AttrEntries = [];
  let bound = 6 * name.length + 6;
  for (const [key, raw] of entries) {
    const [value, cost] = prepareEntry(key, raw, budget.maxDepth - 2);
    clamped.push([key, value]);
    object[key] = value;
    bound += cost;
  }
  return { name, entries: clamped, object, bound };
};

const entryCost = (key: string, value: AttrValue): number =>
  bytes(JSON.stringify(key)) + 2 + bytes(JSON.stringify(value));

/** The greedy path, taken only when everything together is over the byte limit: entries in priority order. */
const fitGreedy = (top: AttrEntries, groups: AttrGroup[], maxBytes: number): FittedMetadata => {
  const room = maxBytes - DROPPED_RESERVE;
  const metadata = emptyObject();
  let used = 2;
  let dropped = 0;
  let kept = 0;
  for (const [key, value] of top) {
    const cost = entryCost(key, value);
    if (used + cost <= room) {
      metadata[key] = value;
      used += cost;
      kept++;
    } else dropped++;
  }
  for (const group of groups) {
    const inner = emptyObject();
    let size = bytes(JSON.stringify(group.name)) + 4;
    let count = 0;
    for (const [key, value] of group.entries) {
      const cost = entryCost(key, value);
      if (used + size + cost <= room) {
        inner[key] = value;
        size += cost;
        count++;
      } else dropped++;
    }
    if (count > 0) {
      metadata[group.name] = inner;
      used += size;
      kept++;
    }
  }
  if (dropped > 0) metadata[DROPPED_KEY] = dropped;
  return { metadata: kept > 0 || dropped > 0 ? metadata : null, dropped };
};

/**
 * The metadata of one event: `top` entries at the top level, each non-empty group as an object under its name
 * (shared between events: never mutate it). Nesting past the depth limit is kept as JSON text; past the byte
 * limit, entries are dropped from the end of the priority order (top entries first in, groups after) and
 * counted. The exact size is computed only when a cheap upper bound is over the limit.
 */
export const fitMetadata = (
  top: AttrEntries,
  groups: AttrGroup[],
  budget: MetadataBudget,
): FittedMetadata => {
  const metadata = emptyObject();
  const clampedTop: AttrEntries = [];
  let bound = 2;
  let kept = 0;
  for (const [key, raw] of top) {
    const [value, cost] = prepareEntry(key, raw, budget.maxDepth - 1);
    clampedTop.push([key, value]);
    metadata[key] = value;
    bound += cost;
    kept++;
  }
  for (const group of groups) {
    if (group.entries.length === 0) continue;
    metadata[group.name] = group.object;
    bound += group.bound;
    kept++;
  }
  if (kept === 0) return { metadata: null, dropped: 0 };
  if (bound <= budget.maxBytes || bytes(JSON.stringify(metadata)) <= budget.maxBytes)
    return { metadata, dropped: 0 };
  return fitGreedy(clampedTop, groups, budget.maxBytes);
};

/** The bound fitMetadata counts for a string entry: `"key":"value",` at six bytes per UTF-16 unit. */
const textEntryBound = (key: string, value: string): number => 6 * key.length + 6 + 6 * value.length;

/**
 * fitMetadata(top, [], budget) for string-valued entries given as two lists (Loki's labels, then an entry's
 * structured metadata), without copying them into one list: strings need no depth clamp, so the metadata is
 * built directly and the general path runs only when the bound is over the byte limit. Same result.
 */
export const fitTextPairs = (
  first: readonly [string, string][],
  second: readonly [string, string][],
  budget: MetadataBudget,
): FittedMetadata => {
  if (first.length + second.length === 0) return { metadata: null, dropped: 0 };
  const metadata = emptyObject();
  let bound = 2;
  for (const [key, value] of first) {
    metadata[key] = value;
    bound += textEntryBound(key, value);
  }
  for (const [key, value] of second) {
    metadata[key] = value;
    bound += textEntryBound(key, value);
  }
  if (bound <= budget.maxBytes || bytes(JSON.stringify(metadata)) <= budget.maxBytes)
    return { metadata, dropped: 0 };
  return fitMetadata([...first, ...second], [], budget);
};
