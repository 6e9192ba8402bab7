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

/** A group of attributes nested under one key (OTLP's resource and scope). */
export interface AttrGroup {
  name: string;
  entries: AttrEntries;
}

const bytes = (text: string): number => Buffer.byteLength(text, "utf8");
const DROPPED_KEY = "dropped_attributes";
/** Room kept for `"dropped_attributes":123456789,` when something must be dropped. */
const DROPPED_RESERVE = 32;

export const emptyObject = (): Record<string, AttrValue> => Object.create(null) as Record<string, AttrValue>;

/** Values nested deeper than `depth` (as jsonDepth counts) become their JSON text, which always fits a level. */
const clampDepth = (value: AttrValue, depth: number): AttrValue => {
  if (value === null || typeof value !== "object") return value;
  if (depth <= 1) return JSON.stringify(value);
  if (Array.isArray(value)) return value.map((v) => clampDepth(v, depth - 1));
  const out = emptyObject();
  for (const key of Object.keys(value)) out[key] = clampDepth(value[key] ?? null, depth - 1);
  return out;
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
    const wrapper = bytes(JSON.stringify(group.name)) + 4;
    const inner = emptyObject();
    let size = wrapper;
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
 * The metadata of one event: `top` entries at the top level, each group as an object under its name. Nesting
 * past the depth limit is kept as JSON text; past the byte limit, entries are dropped from the end of the
 * priority order (top entries first in, groups after) and counted.
 */
export const fitMetadata = (
  top: AttrEntries,
  groups: AttrGroup[],
  budget: MetadataBudget,
): FittedMetadata => {
  const metadata = emptyObject();
  const clampedTop: AttrEntries = top.map(([k, v]) => [k, clampDepth(v, budget.maxDepth - 1)]);
  const clampedGroups: AttrGroup[] = [];
  let kept = 0;
  for (const [key, value] of clampedTop) {
    metadata[key] = value;
    kept++;
  }
  for (const group of groups) {
    if (group.entries.length === 0) continue;
    const entries: AttrEntries = group.entries.map(([k, v]) => [k, clampDepth(v, budget.maxDepth - 2)]);
    clampedGroups.push({ name: group.name, entries });
    const inner = emptyObject();
    for (const [key, value] of entries) inner[key] = value;
    metadata[group.name] = inner;
    kept++;
  }
  if (kept === 0) return { metadata: null, dropped: 0 };
  const text = JSON.stringify(metadata);
  if (text.length * 3 <= budget.maxBytes || bytes(text) <= budget.maxBytes) return { metadata, dropped: 0 };
  return fitGreedy(clampedTop, clampedGroups, budget.maxBytes);
};
