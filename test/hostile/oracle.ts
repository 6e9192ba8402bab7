// The invariant every hostile request is held to: a 4xx JSON error, or accepted and read back identical.
//
// "Identical" is exact string equality for id, message and source, and JSON value equality for metadata
// (object keys compared as sets: PostgreSQL's jsonb keeps values, not key order; numbers compared as the
// doubles JSON.parse gives, so 1e400 → Infinity never equals a stored null).

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** An event the pipeline acknowledged: it must become readable by id, identical to `input`. */
export interface Expected {
  id: string;
  input: Record<string, unknown>;
  origin: string;
  find?: string;
}

export interface Verdict {
  violations: string[];
  expected: Expected[];
  /** Events that may be stored though no answer acknowledged them (the answer was lost, not the event). */
  unanswered?: Expected[];
  /** Known upstream defects met on the way: reported, not failed. */
  notes?: string[];
  /** Requests answered 503 (the bus was slow) and sent again: what they carried may be stored once more. */
  retried?: Sent[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** True when the answer came from logproc (its middleware sets X-Request-Id), not from Bun's HTTP parser. */
export const fromApp = (a: Answer): boolean => a.headers.has("x-request-id");

/** The error shape of every logproc 4xx: {"error": code, "message", "details"?, "requestId"}. */
export const errorShapeProblem = (a: Answer): string | undefined => {
  const type = a.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) return `a ${a.status} with content type "${type}", not JSON`;
  const body = parseJson(a.text);
  if (!isObject(body)) return `a ${a.status} whose body is not a JSON object: ${a.text.slice(0, 120)}`;
  if (
    typeof body.error !== "string" ||
    typeof body.message !== "string" ||
    typeof body.requestId !== "string"
  )
    return `a ${a.status} without string error/message/requestId: ${a.text.slice(0, 200)}`;
  if (body.details !== undefined && !Array.isArray(body.details)) return "details is not a list";
  return undefined;
};

/** Items of a batch body the way a client meant them: a JSON array, or NDJSON lines. */
const batchItems = (text: string, ndjson: boolean): unknown[] | undefined => {
  if (!ndjson) {
    const v = parseJson(text);
    return Array.isArray(v) ? v : undefined;
  }
  const items: unknown[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    items.push(parseJson(line.trim()));
  }
  return items;
};

const NDJSON = new Set(["application/x-ndjson", "application/ndjson", "application/jsonl"]);
export const isNdjson = (contentType: string | null): boolean =>
  NDJSON.has((contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "");

const decodeUtf8 = (bytes: Uint8Array): string | undefined => {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
};

/** The event objects a request carried (one, or a batch's items): what a 503'd attempt may have stored. */
export const itemsOf = (sent: Sent): Json[] => {
  const text = sent.payload ? decodeUtf8(sent.payload) : undefined;
  if (text === undefined) return [];
  const one = parseJson(text);
  const items = isObject(one) ? [one] : (batchItems(text, isNdjson(sent.contentType)) ?? []);
  return items.filter(isObject);
};

/** A 503 that tells the client to retry: the bus was slow or down, not the request wrong. */
export const isRetryable = (a: Answer): boolean =>
  a.status === 503 && fromApp(a) && a.headers.has("retry-after") && a.text.includes('"unavailable"');

export interface Sent {
  origin: string;
  /** The bytes the client meant (before gzip); undefined for a body-less request. */
  payload: Uint8Array | undefined;
  contentType: string | null;
  expect?: "accepted" | "rejected";
  find?: string;
}

/** Events a 2xx ingest answer acknowledged, paired with what the client sent for them. */
const acknowledged = (sent: Sent, body: Json, v: Verdict): void => {
  const where = sent.origin;
  const text = sent.payload ? decodeUtf8(sent.payload) : undefined;
  const more = sent.find ? { find: sent.find } : {};
  if (typeof body.logId === "string") {
    const input = text === undefined ? undefined : parseJson(text);
    if (!isObject(input)) {
      v.violations.push(`${where}: accepted (${body.logId}) a body that is not one JSON object`);
      return;
    }
    if (typeof input.id === "string" && input.id !== body.logId)
      v.violations.push(`${where}: sent id ${JSON.stringify(input.id)}, acknowledged ${body.logId}`);
    v.expected.push({ id: body.logId, input, origin: where, ...more });
    return;
  }
  if (typeof body.totalEvents !== "number") {
    v.violations.push(
      `${where}: a 2xx ingest answer of unknown shape: ${JSON.stringify(body).slice(0, 200)}`,
    );
    return;
  }
  const items = text === undefined ? undefined : batchItems(text, isNdjson(sent.contentType));
  const ids = Array.isArray(body.logIds) ? (body.logIds as unknown[]) : [];
  const errors = Array.isArray(body.errors) ? (body.errors as { index: number }[]) : [];
  const [successCount, failureCount, totalEvents] = [
    body.successCount,
    body.failureCount,
    body.totalEvents,
  ].map(Number);
  if (!items) {
    if (ids.length) v.violations.push(`${where}: accepted ${ids.length} events from an unparseable batch`);
    return;
  }
  if (
    totalEvents !== items.length ||
    Number(successCount) + Number(failureCount) !== totalEvents ||
    successCount !== ids.length
  )
    v.violations.push(
      `${where}: counts do not add up: ${JSON.stringify({ items: items.length, totalEvents, successCount, failureCount, ids: ids.length })}`,
    );
  const failed = new Set(errors.map((e) => e.index));
  const complete = failed.size === failureCount;
  const candidates = items.map((item, index) => ({ item, index })).filter(({ index }) => !failed.has(index));
  if (complete && candidates.length !== ids.length)
    v.violations.push(`${where}: ${candidates.length} items without an error, ${ids.length} ids`);
  ids.forEach((id, k) => {
    if (typeof id !== "string") {
      v.violations.push(`${where}: logIds[${k}] is not a string`);
      return;
    }
    // With every failure reported, the accepted items are the others, in order; past the report's cap,
    // only an item that carries its own id can be told apart.
    const byOrder = complete ? candidates[k]?.item : undefined;
    const own = items.filter((i) => isObject(i) && i.id === id);
    const input = byOrder ?? (own.length === 1 ? own[0] : undefined);
    if (!isObject(input)) {
      v.violations.push(`${where}: cannot tell which item became ${id}`);
      return;
    }
    if (typeof input.id === "string" && input.id !== id)
      v.violations.push(`${where}: item with id ${JSON.stringify(input.id)} acknowledged as ${id}`);
    v.expected.push({ id, input, origin: `${where} [item ${candidates[k]?.index ?? "?"}]`, ...more });
  });
};

/**
 * Judges one answer. `fromParser` allows statuses Bun's own HTTP parser gives to requests logproc never sees.
 * `statuses` narrows the allowed statuses for the case.
 */
export const judge = (
  sent: Sent,
  a: Answer,
  opts: { head?: boolean; statuses?: number[]; parserStatuses?: number[] } = {},
): Verdict => {
  const v: Verdict = { violations: [], expected: [] };
  const where = sent.origin;
  const app = fromApp(a);
  if (opts.statuses && !opts.statuses.includes(a.status))
    v.violations.push(`${where}: answered ${a.status}, expected one of ${opts.statuses.join(", ")}`);
  if (!app) {
    // Refused by Bun's HTTP layer before logproc ran: nothing was accepted; it must still be a client error.
    if (!(a.status >= 400 && a.status < 500) && !opts.parserStatuses?.includes(a.status))
      v.violations.push(`${where}: HTTP layer answered ${a.status} (not 4xx)`);
    return v;
  }
  if (a.status >= 500) {
    v.violations.push(`${where}: ${a.status} ${a.text.slice(0, 300)}`);
    return v;
  }
  if (a.status >= 400) {
    if (sent.expect === "accepted")
      v.violations.push(`${where}: expected acceptance, got ${a.status} ${a.text.slice(0, 300)}`);
    if (!opts.head) {
      const problem = errorShapeProblem(a);
      if (problem) v.violations.push(`${where}: ${problem}`);
    }
    return v;
  }
  if (sent.expect === "rejected" && a.status < 300)
    v.violations.push(`${where}: expected a 4xx, got ${a.status} ${a.text.slice(0, 300)}`);
  const body = opts.head ? undefined : parseJson(a.text);
  const ingest = isObject(body) && ("logId" in body || "totalEvents" in body);
  if (ingest) {
    acknowledged(sent, body, v);
    if (sent.expect === "accepted" && v.expected.length === 0)
      v.violations.push(`${where}: expected acceptance, nothing was accepted: ${a.text.slice(0, 300)}`);
  } else if (sent.expect === "accepted") v.violations.push(`${where}: expected acceptance, got ${a.status}`);
  return v;
};

/** JSON value equality; object keys as sets (jsonb does not keep their order). */
export const sameJson = (a: unknown, b: unknown): boolean => {
  if (typeof a === "number" || typeof b === "number") return a === b;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const bo = b as Json;
  return ka.every((k) => Object.hasOwn(bo, k) && sameJson((a as Json)[k], bo[k]));
};

/** What a stored event read back by id must look like; undefined when it matches. */
export const readBackProblem = (e: Expected, stored: Json): string | undefined => {
  const problems: string[] = [];
  const input = e.input;
  if (stored.id !== e.id) problems.push(`id ${JSON.stringify(stored.id)}`);
  if (stored.message !== input.message)
    problems.push(`message ${JSON.stringify(stored.message).slice(0, 200)}`);
  if (stored.source !== input.source) problems.push(`source ${JSON.stringify(stored.source)}`);
  if (!sameJson(stored.metadata, input.metadata ?? null))
    problems.push(
      `metadata ${JSON.stringify(stored.metadata).slice(0, 200)} vs ${JSON.stringify(input.metadata).slice(0, 200)}`,
    );
  if (typeof input.level === "string" && stored.level !== input.level.trim().toUpperCase())
    problems.push(`level ${JSON.stringify(stored.level)}`);
  if (typeof input.timestamp === "number" && stored.timestamp !== new Date(input.timestamp).toISOString())
    problems.push(`timestamp ${JSON.stringify(stored.timestamp)}`);
  return problems.length ? `${e.origin}: ${e.id} read back with ${problems.join("; ")}` : undefined;
};
