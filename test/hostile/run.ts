// Sends the corpus to a running logproc over fetch: ingest cases (judged by the oracle) and the query matrix.

import {
  expand,
  type HttpCase,
  headersOf,
  type MatrixRequest,
  methodOf,
  payloadOf,
  type Role,
  roleOf,
  wireBody,
} from "./corpus.ts";
import { type Answer, errorShapeProblem, fromApp, isRetryable, judge, type Verdict } from "./oracle.ts";

export interface Endpoints {
  ports: Record<Role, number>;
}

export const urlOf = (e: Endpoints, role: Role, path: string): string =>
  `http://127.0.0.1:${e.ports[role]}${path}`;

/** Runs `work` over `items` with at most `limit` at a time. */
export const pool = async <T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

const REQUEST_TIMEOUT_MS = 60_000;

/** One request; an SSE answer is cut after its headers (the live tail would stream forever). */
export const send = async (url: string, init: RequestInit): Promise<Answer> => {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch(url, { ...init, redirect: "manual", signal: abort.signal });
    if ((res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
      abort.abort();
      return { status: res.status, headers: res.headers, text: "" };
    }
    return { status: res.status, headers: res.headers, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
};

/**
 * A well-behaved ingest client: on a 503 with Retry-After (the bus did not confirm in time) it waits and
 * sends again, at most three times. Each retried attempt is reported: its events may be stored anyway.
 */
export const sendIngest = async (
  url: string,
  init: RequestInit,
  retried: (a: Answer) => void,
): Promise<Answer> => {
  for (let attempt = 0; ; attempt++) {
    const a = await send(url, init);
    if (attempt >= 3 || !isRetryable(a)) return a;
    retried(a);
    await Bun.sleep(1000 * Math.min(5, Number(a.headers.get("retry-after") ?? 1)));
  }
};

export const merge = (into: Verdict, v: Verdict): void => {
  into.violations.push(...v.violations);
  into.expected.push(...v.expected);
  if (v.unanswered?.length) into.unanswered = [...(into.unanswered ?? []), ...v.unanswered];
  if (v.notes?.length) into.notes = [...(into.notes ?? []), ...v.notes];
  if (v.retried?.length) into.retried = [...(into.retried ?? []), ...v.retried];
};

export const runHttpCase = async (e: Endpoints, c: HttpCase, run: string): Promise<Verdict> => {
  const payload = payloadOf(c, run);
  const method = methodOf(c);
  const headers = headersOf(c, run, payload !== undefined);
  const path = expand(c.path, run);
  const origin = `[${c.name}]`;
  const sent = {
    origin,
    payload,
    contentType: headers.get("content-type"),
    ...(c.expect ? { expect: c.expect } : {}),
    ...(c.find ? { find: expand(c.find, run) } : {}),
  };
  let answer: Answer;
  const retries: string[] = [];
  try {
    answer = await sendIngest(
      urlOf(e, roleOf(path), path),
      { method, headers, ...(payload !== undefined ? { body: wireBody(c, payload) } : {}) },
      (a) => retries.push(`${origin}: 503 ${a.text.slice(0, 160)}, sent again`),
    );
  } catch (error) {
    return { violations: [`${origin}: no answer (${String(error)})`], expected: [] };
  }
  const v = judge(sent, answer, { head: method === "HEAD", ...(c.statuses ? { statuses: c.statuses } : {}) });
  return retries.length ? { ...v, notes: retries, retried: [sent] } : v;
};

/**
 * Sends the cases, `limit` at a time; the generated big ones (bombs, 10,000-item batches) go one by one
 * afterwards, so that the CPU they cost does not starve the bus confirmations of the others.
 */
export const runHttpCases = async (
  e: Endpoints,
  cases: HttpCase[],
  run: string,
  limit = 6,
): Promise<Verdict> => {
  const all: Verdict = { violations: [], expected: [] };
  const big = (c: HttpCase) => c.bodyParts !== undefined;
  await pool(
    cases.filter((c) => !big(c)),
    limit,
    async (c) => merge(all, await runHttpCase(e, c, run)),
  );
  await pool(cases.filter(big), 1, async (c) => merge(all, await runHttpCase(e, c, run)));
  return all;
};

// ---------------------------------------------------------------- gateway query matrix

/** What a gateway route may answer to any parameters: 200 (or the SSE stream) or 400; 404 for a missing id. */
export const queryStatuses = (path: string): number[] => (path.includes("{value}") ? [200, 404] : [200, 400]);

export const runMatrix = async (e: Endpoints, requests: MatrixRequest[], limit = 8): Promise<string[]> => {
  const violations: string[] = [];
  await pool(requests, limit, async (r) => {
    let a: Answer;
    try {
      a = await send(urlOf(e, "gateway", r.path), { headers: r.headers });
    } catch (error) {
      violations.push(`${r.name}: no answer (${String(error)})`);
      return;
    }
    const allowed = queryStatuses(r.route.path);
    if (!fromApp(a)) {
      if (a.status < 400 || a.status >= 500) violations.push(`${r.name}: HTTP layer answered ${a.status}`);
      return;
    }
    if (!allowed.includes(a.status)) violations.push(`${r.name}: ${a.status} ${a.text.slice(0, 300)}`);
    else if (a.status >= 400) {
      const problem = errorShapeProblem(a);
      if (problem) violations.push(`${r.name}: ${problem}`);
    } else if (
      !r.route.path.endsWith("/tail") &&
      !(a.headers.get("content-type") ?? "").startsWith("application/json")
    )
      violations.push(`${r.name}: 200 that is not JSON`);
  });
  return violations;
};
