// The hostile corpus: loads test/hostile/corpus/*.json, validates its shape and turns each case into bytes to send.
//
// Macros, expanded in every string of a case: {run} → a 5-character tag unique to the run (ids stay unique
// across reruns and their lengths stay as written), {rep:N:TEXT} → TEXT repeated N times. In `bodyParts`,
// {i} in a repeated item is its index.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export const CORPUS_DIR = join(import.meta.dir, "corpus");

const Repeat = z.object({
  repeat: z.union([z.string(), z.array(z.string()).min(1)]),
  count: z.number().int().positive(),
  separator: z.string().optional(),
});
const BodyPart = z.union([z.string(), Repeat]);

export const HttpCase = z
  .object({
    name: z.string().min(1),
    method: z.string().optional(),
    path: z.string().startsWith("/"),
    /** A null value means "send no such header" (no default Content-Type either). */
    headers: z.record(z.string(), z.string().nullable()).optional(),
    body: z.string().optional(),
    bodyBase64: z.string().optional(),
    bodyParts: z.array(BodyPart).optional(),
    gzip: z.enum(["ok", "truncated", "corrupt-header", "trailing-garbage", "two-members"]).optional(),
    expect: z.enum(["accepted", "rejected"]).optional(),
    /** Search text that must return every event this case got accepted. */
    find: z.string().optional(),
    /** Statuses this case may answer (narrower than the general rule). */
    statuses: z.array(z.number().int()).optional(),
  })
  .strict();
export type HttpCase = z.infer<typeof HttpCase>;

export const RawCase = z
  .object({
    name: z.string().min(1),
    port: z.enum(["producer", "gateway", "consumer"]),
    raw: z.string().optional(),
    rawBase64: z.string().optional(),
    parts: z.array(z.object({ head: z.string(), body: z.string() }).strict()).optional(),
    halfClose: z.boolean().optional(),
    waitMs: z.number().int().positive().optional(),
    accepted: z.array(z.string()).optional(),
    parserStatuses: z.array(z.number().int()).optional(),
    answers: z.number().int().positive().optional(),
    knownIssue: z.string().optional(),
  })
  .strict();
export type RawCase = z.infer<typeof RawCase>;

const Route = z
  .object({
    path: z.string(),
    params: z.array(z.string()),
    headers: z.array(z.string()).optional(),
    base: z.record(z.string(), z.string()),
  })
  .strict();
export type Route = z.infer<typeof Route>;

const QueryFile = z
  .object({
    description: z.string(),
    routes: z.array(Route),
    values: z.array(z.string()),
    rawValues: z.array(z.string()),
    cases: z.array(HttpCase),
  })
  .strict();

const CaseFile = <T extends z.ZodType>(item: T) =>
  z.object({ description: z.string(), cases: z.array(item) }).strict();

const readJson = (file: string): unknown => JSON.parse(readFileSync(join(CORPUS_DIR, file), "utf8"));

export interface Corpus {
  http: HttpCase[];
  raw: RawCase[];
  routes: Route[];
  values: string[];
  rawValues: string[];
}

export const INGEST_FILES = ["ingest-json.json", "ingest-text.json", "ingest-http.json"] as const;

export const loadCorpus = (): Corpus => {
  const http = INGEST_FILES.flatMap((f) => CaseFile(HttpCase).parse(readJson(f)).cases);
  const query = QueryFile.parse(readJson("query.json"));
  const raw = CaseFile(RawCase).parse(readJson("raw-socket.json")).cases;
  return {
    http: [...http, ...query.cases],
    raw,
    routes: query.routes,
    values: query.values,
    rawValues: query.rawValues,
  };
};

/** A tag of exactly 5 characters, so that ids and bodies keep the lengths written in the corpus. */
export const runTag = (): string =>
  `r${Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, "0")}`;

export const expand = (text: string, run: string): string =>
  text
    .replaceAll("{run}", run)
    .replace(/\{rep:(\d+):([^{}]*)\}/g, (_, n: string, t: string) => t.repeat(Number(n)));

const encoder = new TextEncoder();

/** Bytes on their own ArrayBuffer (what fetch bodies and Bun.gzipSync are typed to take). */
export type Bytes = Uint8Array<ArrayBuffer>;
const own = (u: Uint8Array): Bytes => new Uint8Array(u);

const partsText = (parts: z.infer<typeof BodyPart>[], run: string): string => {
  const out: string[] = [];
  for (const part of parts) {
    if (typeof part === "string") {
      out.push(expand(part, run));
      continue;
    }
    const items = (Array.isArray(part.repeat) ? part.repeat : [part.repeat]).map((t) => expand(t, run));
    const indexed = items.map((t) => t.includes("{i}"));
    const pieces: string[] = new Array(part.count);
    for (let i = 0; i < part.count; i++) {
      const k = i % items.length;
      const item = items[k] as string;
      pieces[i] = indexed[k] ? item.replaceAll("{i}", String(i)) : item;
    }
    out.push(pieces.join(part.separator ?? ""));
  }
  return out.join("");
};

/** The bytes a case means to send, before any gzip. */
export const payloadOf = (c: HttpCase, run: string): Bytes | undefined => {
  if (c.bodyBase64 !== undefined) return own(Buffer.from(c.bodyBase64, "base64"));
  if (c.bodyParts !== undefined) return encoder.encode(partsText(c.bodyParts, run));
  if (c.body !== undefined) return encoder.encode(expand(c.body, run));
  return undefined;
};

const concat = (...chunks: Uint8Array[]): Bytes => own(Buffer.concat(chunks));

/** The bytes on the wire: the payload, gzipped (and broken) as the case says. */
export const wireBody = (c: HttpCase, payload: Bytes): Bytes => {
  switch (c.gzip) {
    case undefined:
      return payload;
    case "ok":
      return Bun.gzipSync(payload);
    case "truncated": {
      const z = Bun.gzipSync(payload);
      return z.subarray(0, Math.max(10, z.length - 12));
    }
    case "corrupt-header": {
      const z = Bun.gzipSync(payload);
      z[3] = 0xff; // reserved flag bits set
      return z;
    }
    case "trailing-garbage":
      return concat(Bun.gzipSync(payload), encoder.encode("garbage after the gzip stream"));
    case "two-members": {
      const half = Math.floor(payload.length / 2);
      return concat(Bun.gzipSync(own(payload.subarray(0, half))), Bun.gzipSync(own(payload.subarray(half))));
    }
  }
};

export const headersOf = (c: HttpCase, run: string, hasBody: boolean): Headers => {
  const given = Object.entries(c.headers ?? {});
  const headers = new Headers();
  if (hasBody && !given.some(([k]) => k.toLowerCase() === "content-type"))
    headers.set("content-type", "application/json");
  for (const [k, v] of given) if (v !== null) headers.set(k, expand(v, run));
  return headers;
};

export const methodOf = (c: HttpCase): string =>
  c.method ??
  (c.body !== undefined || c.bodyBase64 !== undefined || c.bodyParts !== undefined ? "POST" : "GET");

export type Role = "producer" | "gateway" | "consumer";

export const roleOf = (path: string): Role =>
  path.startsWith("/producer") ? "producer" : path.startsWith("/actuator") ? "consumer" : "gateway";

/** The raw bytes of a raw-socket case. */
export const rawBytes = (c: RawCase, run: string): Bytes => {
  if (c.rawBase64 !== undefined) return own(Buffer.from(c.rawBase64, "base64"));
  if (c.raw !== undefined) return encoder.encode(expand(c.raw, run));
  const chunks = (c.parts ?? []).map((p) => {
    const body = encoder.encode(expand(p.body, run));
    return concat(encoder.encode(expand(p.head, run).replace("{len}", String(body.length))), body);
  });
  return concat(...chunks);
};

/** Every (route, parameter, value) request of the query matrix, as a path and extra headers. */
export interface MatrixRequest {
  name: string;
  route: Route;
  path: string;
  headers: Record<string, string>;
}

const encodeParams = (params: Record<string, string>): string =>
  Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");

/** A value fetch() can carry in a header: Latin-1, no CR, LF or NUL. */
const headerSafe = (v: string): boolean => /^[\u0020-\u007e\u0080-\u00ff\t]*$/.test(v) && v.trim() === v;

export const matrixRequests = (corpus: Corpus, run: string): MatrixRequest[] => {
  const out: MatrixRequest[] = [];
  const all = [
    ...corpus.values.map((v) => ({ text: expand(v, run), encoded: encodeURIComponent(expand(v, run)) })),
    ...corpus.rawValues.map((v) => ({ text: v, encoded: v })),
  ];
  for (const route of corpus.routes) {
    if (route.path.includes("{value}")) {
      for (const v of all)
        out.push({
          name: `${route.path} ← ${JSON.stringify(v.text)}`,
          route,
          path: route.path.replace("{value}", v.encoded),
          headers: {},
        });
      continue;
    }
    for (const param of route.params)
      for (const v of all) {
        const base = Object.fromEntries(Object.entries(route.base).filter(([k]) => k !== param));
        const rest = encodeParams(base);
        out.push({
          name: `${route.path}?${param}=${JSON.stringify(v.text)}`,
          route,
          path: `${route.path}?${rest ? `${rest}&` : ""}${encodeURIComponent(param)}=${v.encoded}`,
          headers: {},
        });
      }
    for (const header of route.headers ?? [])
      for (const v of all)
        if (headerSafe(v.text) && v.text !== "")
          out.push({
            name: `${route.path} ${header}: ${JSON.stringify(v.text)}`,
            route,
            path: route.path,
            headers: { [header]: v.text },
          });
  }
  return out;
};
