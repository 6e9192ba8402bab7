// Property-based fuzzing of the gateway's query parameters: any value in any parameter of any route answers
// 200 (or the SSE stream) or a 400 naming known parameters; /logs/{id} answers 200 or 404. Never a 5xx.

import fc from "fast-check";
import type { Role } from "./corpus.ts";
import { hostileText, LEVELS } from "./event-arbitraries.ts";
import { report } from "./fuzz-events.ts";
import { errorShapeProblem, fromApp } from "./oracle.ts";
import { type Endpoints, send, urlOf } from "./run.ts";

/** WTF-8 percent-encoding: lone surrogates become the (invalid UTF-8) bytes a sloppy client would send. */
export const percentEncode = (s: string): string => {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    const ch = s[i] as string;
    if (/[A-Za-z0-9\-._~]/.test(ch)) {
      out += ch;
      continue;
    }
    let cp = unit;
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < s.length) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    const bytes =
      cp < 0x80
        ? [cp]
        : cp < 0x800
          ? [0xc0 | (cp >> 6), 0x80 | (cp & 63)]
          : cp < 0x10000
            ? [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)]
            : [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    for (const b of bytes) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
};

const paramValue = fc.oneof(
  { weight: 4, arbitrary: hostileText(0, 20) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ...LEVELS,
      "info,warn",
      "",
      " ",
      ",",
      "0",
      "1",
      "-1",
      "24",
      "8760",
      "1000",
      "1001",
      "10000",
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 2e15 }).map(String) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: "binary", maxLength: 40 })
      .map((s) => Buffer.from(s, "utf8").toString("base64url")),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer(), fc.integer(), hostileText(0, 10))
      .map((t) => Buffer.from(JSON.stringify(t)).toString("base64url")),
  },
);

interface QueryRoute {
  path: string;
  params: string[];
  statuses: number[];
  role: Role;
}
const G = "/gateway/api/query";
const QUERY_ROUTES: QueryRoute[] = [
  {
    path: `${G}/logs`,
    params: ["startTime", "endTime", "level", "source", "page", "size", "cursor"],
    statuses: [200, 400],
    role: "gateway",
  },
  {
    path: `${G}/search`,
    params: ["query", "q", "startTime", "endTime", "level", "source", "page", "size", "cursor"],
    statuses: [200, 400],
    role: "gateway",
  },
  { path: `${G}/stats`, params: ["hoursBack"], statuses: [200, 400], role: "gateway" },
  {
    path: `${G}/tail`,
    params: ["query", "q", "level", "source", "cursor"],
    statuses: [200, 400],
    role: "gateway",
  },
];
const PARAM_NAMES = new Set([
  "query",
  "level",
  "source",
  "startTime",
  "endTime",
  "page",
  "size",
  "cursor",
  "hoursBack",
  "Last-Event-ID",
]);

const queryArb = fc.oneof(
  fc.constantFrom(...QUERY_ROUTES).chain((route) =>
    fc.record({
      route: fc.constant(route),
      params: fc.array(fc.tuple(fc.constantFrom(...route.params), paramValue), { maxLength: 6 }),
      lastEventId: fc.option(
        fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((s) => s.trim()),
        { nil: undefined },
      ),
    }),
  ),
  paramValue.map((v) => ({
    route: { path: `${G}/logs/{id}`, params: [], statuses: [200, 404], role: "gateway" as Role },
    params: [["id", v]] as [string, string][],
    lastEventId: undefined,
  })),
);

export const fuzzQueries = async (e: Endpoints, numRuns: number): Promise<string[]> => {
  const details = await fc.check(
    fc.asyncProperty(queryArb, async ({ route, params, lastEventId }) => {
      const path = route.path.includes("{id}")
        ? route.path.replace("{id}", percentEncode(params[0]?.[1] ?? ""))
        : `${route.path}?${params.map(([k, v]) => `${k}=${percentEncode(v)}`).join("&")}`;
      const headers: Record<string, string> =
        route.path.endsWith("/tail") && lastEventId ? { "last-event-id": lastEventId } : {};
      const a = await send(urlOf(e, route.role, path), { headers });
      const where = `GET ${path.slice(0, 300)} ${JSON.stringify(headers)}`;
      if (!fromApp(a)) {
        if (a.status < 400 || a.status >= 500) throw new Error(`${where}: HTTP layer answered ${a.status}`);
        return;
      }
      // A path the URL parser normalized away (an id of "." or "..") lands on no route: 404 is its answer.
      const allowed = route.path.includes("{id}") ? route.statuses : route.statuses;
      if (!allowed.includes(a.status)) throw new Error(`${where}: ${a.status} ${a.text.slice(0, 300)}`);
      if (a.status >= 400) {
        const problem = errorShapeProblem(a);
        if (problem) throw new Error(`${where}: ${problem}`);
        const body = JSON.parse(a.text) as { details?: { field: string }[] };
        if (a.status === 400) {
          const odd = (body.details ?? []).filter((d) => !PARAM_NAMES.has(d.field));
          if (!body.details?.length || odd.length)
            throw new Error(`${where}: 400 naming ${JSON.stringify(body.details)}`);
        }
      }
    }),
    { numRuns },
  );
  return report(details);
};
