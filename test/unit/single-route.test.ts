// The single-event routes answer a POST of their exact path before routing: the answers, headers and counts
// must be the ones the router's way gives (a percent-encoded path takes it), for acceptance and every refusal.

import { describe, expect, test } from "bun:test";
import type { ScriptedPublisher, testMetrics } from "../helpers/bus-doubles.ts";
import { scriptedProducer } from "../helpers/scripted-producer.ts";

const KEY = "single-key-1";
const EVENT = JSON.stringify({ level: "INFO", source: "checkout", message: "order paid" });
const PATHS = {
  ingest: { fast: "/producer/api/logs/ingest", routed: "/producer/api/logs/%69ngest" },
  ingest_async: { fast: "/producer/api/logs/ingest/async", routed: "/producer/api/logs/ingest/%61sync" },
} as const;

interface Case {
  name: string;
  env?: Record<string, string>;
  mode?: ScriptedPublisher["mode"];
  headers: Record<string, string>;
  body: string;
  /** Requests sent before the checked one (to use up a rate limit). */
  before?: number;
  /** The error code of the answer; none for an accepted event. */
  error?: string;
  /** For /ingest/async, when it differs: an event the bus refuses is still queued for retries. */
  asyncError?: string | null;
}

const json = { "content-type": "application/json" };
const keyed = { ...json, authorization: `Bearer ${KEY}` };
const CASES: Case[] = [
  { name: "accepted", headers: keyed, body: EVENT },
  {
    name: "accepted, with the caller's request id",
    headers: { ...keyed, "x-request-id": "req-1" },
    body: EVENT,
  },
  { name: "no key", headers: json, body: EVENT, error: "unauthorized" },
  { name: "a wrong key", headers: { ...json, "x-api-key": "nope" }, body: EVENT, error: "unauthorized" },
  {
    name: "not JSON",
    headers: { ...keyed, "content-type": "text/plain" },
    body: EVENT,
    error: "unsupported_media_type",
  },
  { name: "malformed JSON", headers: keyed, body: "{", error: "malformed_json" },
  {
    name: "an invalid event",
    headers: keyed,
    body: JSON.stringify({ level: "LOUD", message: "m" }),
    error: "validation_failed",
  },
  {
    name: "over MAX_EVENT_BYTES",
    env: { MAX_EVENT_BYTES: "49152" },
    headers: keyed,
    body: JSON.stringify({ level: "INFO", message: "m".repeat(50_000) }),
    error: "payload_too_large",
  },
  {
    name: "the bus refuses",
    mode: "domain-error",
    headers: keyed,
    body: EVENT,
    error: "unavailable",
    asyncError: null,
  },
  {
    name: "past the rate limit",
    env: { RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "1" },
    headers: keyed,
    body: EVENT,
    before: 1,
    error: "rate_limited",
  },
];

const STATUS: Record<string, number> = {
  unauthorized: 401,
  unsupported_media_type: 415,
  malformed_json: 400,
  validation_failed: 400,
  payload_too_large: 413,
  unavailable: 503,
  rate_limited: 429,
};

/** Requests counted by status, and ingestion durations observed by endpoint. */
const countsOf = async (m: ReturnType<typeof testMetrics>) => {
  const requests = Object.fromEntries(
    (await m.httpRequests.get()).values.map((v) => [`${v.labels.role} ${v.labels.status}`, v.value]),
  );
  const durations = Object.fromEntries(
    (await m.ingestionDuration.get()).values
      .filter((v) => v.metricName?.endsWith("_count"))
      .map((v) => [String(v.labels.endpoint), v.value]),
  );
  return { requests, durations };
};

// A POST of the exact path is answered before routing; a percent-encoded one reaches the same handler through
// the router, which must not add the app's middleware (a second count, a second request id) to its answer.
describe("single-event routes: answers, headers and counts, before routing and through the router", () => {
  for (const [endpoint, paths] of Object.entries(PATHS))
    for (const [way, path] of Object.entries(paths))
      for (const c of CASES)
        test(`${endpoint} (${way}): ${c.name}`, async () => {
          const { app, metrics, publisher } = scriptedProducer({ INGEST_API_KEYS: KEY, ...c.env }, c.mode);
          const post = () => app.request(path, { method: "POST", headers: c.headers, body: c.body });
          const earlier = [];
          for (let i = 0; i < (c.before ?? 0); i++) earlier.push((await post()).status);
          const res = await post();
          const body = (await res.json()) as Record<string, unknown>;
          const error = endpoint === "ingest_async" && c.asyncError !== undefined ? c.asyncError : c.error;
          const status = error ? (STATUS[error] as number) : endpoint === "ingest" ? 200 : 202;

          expect(res.status).toBe(status);
          expect(res.headers.get("content-type")).toBe("application/json");
          const requestId = res.headers.get("x-request-id");
          if (c.headers["x-request-id"]) expect(requestId).toBe(c.headers["x-request-id"]);
          else expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
          expect(res.headers.get("www-authenticate")).toBe(
            error === "unauthorized" ? 'Bearer realm="logproc"' : null,
          );
          expect(res.headers.get("retry-after") !== null).toBe(
            error === "rate_limited" || error === "unavailable",
          );
          if (error) expect(body).toMatchObject({ error, requestId });
          else {
            expect(body).toEqual({
              status: "accepted",
              logId: expect.stringMatching(/^[0-9a-f-]{36}$/),
              message:
                endpoint === "ingest"
                  ? "Log event accepted for processing"
                  : "Log event queued for processing",
            });
            await Bun.sleep(0);
            expect(publisher.published.flat().map((e) => e.id)).toContain(body.logId as string);
          }

          const counts = await countsOf(metrics);
          const byStatus: Record<string, number> = {};
          for (const s of [...earlier, status])
            byStatus[`producer ${s}`] = (byStatus[`producer ${s}`] ?? 0) + 1;
          expect(counts.requests).toEqual(byStatus);
          expect(counts.durations).toEqual({ [endpoint]: earlier.length + 1 });
        });
});
