// Property-based fuzzing of ingest: generated events one by one and in batches, each answer checked against
// the verdict the event was generated with; what is acknowledged is collected for the read-back.

import fc from "fast-check";
import { bodyOf, eventArb, FIELDS, type Field, invalidFields } from "./event-arbitraries.ts";
import { type Answer, judge, type Verdict } from "./oracle.ts";
import { type Endpoints, sendIngest, urlOf } from "./run.ts";

const namesField = (issueField: string, f: Field) =>
  issueField === f || issueField.startsWith(`${f}.`) || issueField.startsWith(`${f}[`);

/** A 400's details must name every invalid field and no valid one. */
const detailsProblem = (details: { field: string }[], bad: Field[]): string | undefined => {
  const named = new Set(FIELDS.filter((f) => details.some((d) => namesField(d.field, f))));
  const missing = bad.filter((f) => !named.has(f));
  const wrong = [...named].filter((f) => !bad.includes(f));
  const unknown = details.filter((d) => !FIELDS.some((f) => namesField(d.field, f)));
  if (missing.length || wrong.length || unknown.length)
    return `expected issues for [${bad.join(", ")}], got ${JSON.stringify(details).slice(0, 400)}`;
  return undefined;
};

/** A failed property as one violation: the counterexample, its seed for replay, and what went wrong. */
export const report = <T>(details: fc.RunDetails<T>): string[] =>
  details.failed
    ? [
        `${fc.defaultReportMessage(details) ?? "property failed"}\n${String(details.errorInstance).slice(0, 1500)}`,
      ]
    : [];

/** Posts like a well-behaved client (503 → retry); a retried body is recorded in `into`: it may be stored. */
const post = (
  e: Endpoints,
  path: string,
  body: Uint8Array<ArrayBuffer>,
  headers: Record<string, string>,
  into: Verdict,
  sent: { origin: string; payload: Uint8Array; contentType: string },
): Promise<Answer> =>
  sendIngest(urlOf(e, "producer", path), { method: "POST", body, headers }, (a) => {
    into.notes = [...(into.notes ?? []), `${sent.origin}: 503 ${a.text.slice(0, 160)}, sent again`];
    into.retried = [...(into.retried ?? []), sent];
  });

/** Single events to /ingest or /ingest/async, some gzipped. */
export const fuzzEvents = async (e: Endpoints, run: string, numRuns: number): Promise<Verdict> => {
  const all: Verdict = { violations: [], expected: [] };
  const details = await fc.check(
    fc.asyncProperty(eventArb, fc.boolean(), fc.boolean(), async (ev, asyncRoute, gzip) => {
      const text = bodyOf(ev, run);
      const bad = invalidFields(ev);
      const raw = new TextEncoder().encode(text);
      const path = asyncRoute ? "/producer/api/logs/ingest/async" : "/producer/api/logs/ingest";
      const headers: Record<string, string> = {
        "content-type": "application/json",
        ...(gzip ? { "content-encoding": "gzip" } : {}),
      };
      const origin = `[fuzz ${path} ${text.slice(0, 160)}]`;
      const a = await post(e, path, gzip ? Bun.gzipSync(raw) : raw, headers, all, {
        origin,
        payload: raw,
        contentType: "application/json",
      });
      const v = judge(
        {
          origin,
          payload: raw,
          contentType: "application/json",
          expect: bad.length ? "rejected" : "accepted",
        },
        a,
      );
      all.expected.push(...v.expected);
      if (v.violations.length) throw new Error(v.violations.join("\n"));
      if (bad.length) {
        if (a.status !== 400) throw new Error(`${origin}: ${a.status}`);
        const problem = detailsProblem(
          (JSON.parse(a.text) as { details: { field: string }[] }).details ?? [],
          bad,
        );
        if (problem) throw new Error(`${origin}: ${problem}`);
      } else if (a.status !== (asyncRoute ? 202 : 200)) throw new Error(`${origin}: ${a.status}`);
    }),
    { numRuns },
  );
  all.violations.push(...report(details));
  return all;
};

/** Batches of generated events as a JSON array or NDJSON (blank lines, CRLF), some gzipped. */
export const fuzzBatches = async (e: Endpoints, run: string, numRuns: number): Promise<Verdict> => {
  const all: Verdict = { violations: [], expected: [] };
  const details = await fc.check(
    fc.asyncProperty(
      fc.array(eventArb, { minLength: 1, maxLength: 25 }),
      fc.constantFrom("json", "ndjson"),
      fc.boolean(),
      fc.array(fc.constantFrom("\n", "\r\n", "\n\n", "\n  \n"), { minLength: 25, maxLength: 25 }),
      async (events, kind, gzip, seps) => {
        const bodies = events.map((ev) => bodyOf(ev, run));
        const text =
          kind === "json" ? `[${bodies.join(",")}]` : bodies.map((b, i) => b + (seps[i] ?? "\n")).join("");
        const raw = new TextEncoder().encode(text);
        const contentType = kind === "json" ? "application/json" : "application/x-ndjson";
        const origin = `[fuzz batch ${kind} of ${events.length}]`;
        const a = await post(
          e,
          "/producer/api/logs/batch",
          gzip ? Bun.gzipSync(raw) : raw,
          { "content-type": contentType, ...(gzip ? { "content-encoding": "gzip" } : {}) },
          all,
          { origin, payload: raw, contentType },
        );
        const v = judge({ origin, payload: raw, contentType }, a);
        all.expected.push(...v.expected);
        if (v.violations.length) throw new Error(v.violations.join("\n"));
        if (a.status !== 200) throw new Error(`${origin}: ${a.status} ${a.text.slice(0, 300)}`);
        const body = JSON.parse(a.text) as {
          successCount: number;
          failureCount: number;
          errors: { index: number; field: string }[];
        };
        const bad = events.map((ev) => invalidFields(ev));
        const wantFailed = bad.flatMap((b, i) => (b.length ? [i] : []));
        const gotFailed = [...new Set(body.errors.map((x) => x.index))].sort((x, y) => x - y);
        if (
          JSON.stringify(gotFailed) !== JSON.stringify(wantFailed) ||
          body.successCount !== events.length - wantFailed.length
        )
          throw new Error(
            `${origin}: failed items ${JSON.stringify(gotFailed)}, expected ${JSON.stringify(wantFailed)}; bodies ${JSON.stringify(bodies).slice(0, 600)}`,
          );
        for (const i of wantFailed) {
          const problem = detailsProblem(
            body.errors.filter((x) => x.index === i),
            bad[i] ?? [],
          );
          if (problem) throw new Error(`${origin}: item ${i}: ${problem}`);
        }
      },
    ),
    { numRuns },
  );
  all.violations.push(...report(details));
  return all;
};
