// After the requests: every acknowledged event is read back by id and compared, searched for, paged from.

import { type Expected, itemsOf, readBackProblem, type Sent } from "./oracle.ts";
import { type Endpoints, pool, send, urlOf } from "./run.ts";

const idPath = (id: string) => `/gateway/api/query/logs/${encodeURIComponent(id)}`;

/** Waits until every expected event is readable by id, compares each with what was sent, and pages on from it. */
export const verifyStored = async (
  e: Endpoints,
  expected: Expected[],
  withinMs = 90_000,
): Promise<string[]> => {
  const problems: string[] = [];
  let pending = [...expected];
  const until = Date.now() + withinMs;
  while (pending.length > 0) {
    const missing: Expected[] = [];
    await pool(pending, 16, async (x) => {
      const a = await send(urlOf(e, "gateway", idPath(x.id)), {});
      if (a.status === 404) {
        missing.push(x);
        return;
      }
      if (a.status !== 200) {
        problems.push(`${x.origin}: GET by id answered ${a.status} ${a.text.slice(0, 200)}`);
        return;
      }
      const stored = JSON.parse(a.text) as Record<string, unknown>;
      const problem = readBackProblem(x, stored);
      if (problem) problems.push(problem);
      // Every cursor the service issues, it takes back: paging on from this event must work.
      const next = await send(
        urlOf(
          e,
          "gateway",
          `/gateway/api/query/logs?size=1&cursor=${encodeURIComponent(String(stored.cursor))}`,
        ),
        {},
      );
      if (next.status !== 200)
        problems.push(`${x.origin}: its cursor answered ${next.status} ${next.text.slice(0, 200)}`);
    });
    pending = missing;
    if (pending.length === 0) break;
    if (Date.now() > until) {
      problems.push(
        `${pending.length} accepted events never became readable, e.g. ${pending
          .slice(0, 5)
          .map((x) => `${x.origin} ${x.id}`)
          .join(", ")}`,
      );
      break;
    }
    await Bun.sleep(250);
  }
  return problems;
};

/** Each case's `find` search must return every event it got accepted. */
export const verifyFinds = async (e: Endpoints, expected: Expected[]): Promise<string[]> => {
  const problems: string[] = [];
  const byQuery = new Map<string, Expected[]>();
  for (const x of expected) if (x.find) byQuery.set(x.find, [...(byQuery.get(x.find) ?? []), x]);
  for (const [query, wanted] of byQuery) {
    const a = await send(
      urlOf(e, "gateway", `/gateway/api/query/search?size=1000&query=${encodeURIComponent(query)}`),
      {},
    );
    if (a.status !== 200) {
      problems.push(`search ${JSON.stringify(query)}: ${a.status} ${a.text.slice(0, 200)}`);
      continue;
    }
    const found = new Set(
      ((JSON.parse(a.text) as { content: { id: string }[] }).content ?? []).map((i) => i.id),
    );
    for (const x of wanted)
      if (!found.has(x.id))
        problems.push(`${x.origin}: search ${JSON.stringify(query)} did not return ${x.id}`);
  }
  return problems;
};

/**
 * Events stored without an acknowledgement: each must be one a 503'd (then retried) request carried, read
 * back identical. Nothing that was never sent as a valid event may be in the store.
 */
export const verifyUnacknowledged = async (
  e: Endpoints,
  ids: string[],
  retried: Sent[],
): Promise<string[]> => {
  const problems: string[] = [];
  const candidates = retried.flatMap((sent) =>
    itemsOf(sent).map((input) => ({ input, origin: sent.origin })),
  );
  for (const id of ids) {
    const a = await send(urlOf(e, "gateway", idPath(id)), {});
    if (a.status !== 200) {
      problems.push(`stored but unacknowledged ${id}: by id answered ${a.status}`);
      continue;
    }
    const stored = JSON.parse(a.text) as Record<string, unknown>;
    const match = candidates.find(
      (c) =>
        (c.input.id === undefined || c.input.id === null || c.input.id === id) &&
        readBackProblem({ id, input: c.input, origin: c.origin }, stored) === undefined,
    );
    if (!match) problems.push(`stored but never acknowledged nor retried: ${a.text.slice(0, 300)}`);
  }
  return problems;
};
