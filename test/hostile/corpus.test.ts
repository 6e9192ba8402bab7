// The corpus itself: well-formed, big enough, and every id it sets unique (reruns and cases never collide).

import { describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  type HttpCase,
  loadCorpus,
  matrixRequests,
  methodOf,
  payloadOf,
  rawBytes,
  runTag,
} from "./corpus.ts";

setDefaultTimeout(60_000);

describe("the hostile corpus", () => {
  const corpus = loadCorpus();
  const run = runTag();

  test("holds at least 200 requests besides the query matrix, with unique names", () => {
    const names = [...corpus.http, ...corpus.raw].map((c) => c.name);
    expect(names.length).toBeGreaterThanOrEqual(200);
    expect(new Set(names).size).toBe(names.length);
  });

  test("sets every explicit event id at most once, and only with the run tag or as a case meant to be refused", () => {
    const ids: string[] = [];
    const collect = (value: unknown, c: HttpCase) => {
      if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const id = (value as { id?: unknown }).id;
        if (typeof id === "string") {
          if (c.expect !== "rejected") expect(id).toContain(run);
          ids.push(id);
        }
      }
    };
    for (const c of corpus.http) {
      if (c.bodyParts || c.gzip || methodOf(c) !== "POST") continue; // generated or binary: checked when sent
      const bytes = payloadOf(c, run);
      if (!bytes) continue;
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        continue;
      }
      for (const item of Array.isArray(value) ? value : [value]) collect(item, c);
    }
    const accepted = ids.filter((id) => id.includes(run));
    const repeated = accepted.filter((id, i) => accepted.indexOf(id) !== i);
    // The one deliberate repeat: a batch that sends the same event twice (a resend is one event).
    expect(repeated).toEqual([`${run}-same`]);
  });

  test("keeps lengths as written: the run tag is 5 characters", () => {
    expect(run).toHaveLength(5);
    expect(runTag()).not.toBe(run);
  });

  test("covers every query parameter of every gateway route with every hostile value", () => {
    const requests = matrixRequests(corpus, run);
    for (const route of corpus.routes)
      for (const param of route.params)
        expect(
          requests.filter((r) => r.route === route && r.path.includes(`${param}=`)).length,
        ).toBeGreaterThanOrEqual(corpus.values.length + corpus.rawValues.length);
    for (const v of ["'", "%", "_", "\\", "&", "|", "!", ":*", "<->", "(", ")"])
      expect(corpus.values).toContain(v);
  });

  test("turns every raw case into bytes", () => {
    for (const c of corpus.raw) expect(rawBytes(c, run).length).toBeGreaterThan(0);
  });
});
