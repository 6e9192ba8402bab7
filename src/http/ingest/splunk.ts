// Splunk HTTP Event Collector on the producer port: concatenated JSON events → the native ingest path.

import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DomainError } from "../../domain/errors.ts";
import { isObject } from "../../domain/ingest/fields.ts";
import { HEC, type HecAnswer, hecToEvent, splitConcatenated } from "../../domain/ingest/splunk.ts";
import { readBodyText } from "../body.ts";
import { errorShape, type ProtocolDeps } from "./protocol.ts";

const hec = (c: Context, answer: HecAnswer, extra: Record<string, unknown> = {}, status?: number) =>
  c.json(
    { text: answer.text, code: answer.code, ...extra },
    (status ?? answer.status) as ContentfulStatusCode,
  );

/** Which of HEC's auth answers fits: no credentials, credentials of no known form, or a wrong token. */
const authAnswer = (c: Context): HecAnswer => {
  const auth = c.req.header("authorization");
  if (!auth && !c.req.header("x-api-key")) return HEC.tokenRequired;
  if (auth && !/^(Splunk|Bearer|Basic|ApiKey)\s+\S/i.test(auth.trim())) return HEC.invalidAuthorization;
  return HEC.invalidToken;
};

const renderHecError = (c: Context, error: DomainError, status: ContentfulStatusCode): Response => {
  switch (error.code) {
    case "unauthorized":
      return hec(c, authAnswer(c));
    case "rate_limited":
    case "overloaded":
    case "unavailable":
      return hec(c, HEC.serverBusy, {}, status);
    case "internal":
      return c.json({ text: "Internal server error", code: 8 }, 500);
    default:
      return c.json(
        { text: `${HEC.invalidFormat.text}: ${error.message}`, code: HEC.invalidFormat.code },
        status,
      );
  }
};

const ENVELOPE_DEFAULTS = ["host", "source", "sourcetype", "index"] as const;

export const mountSplunk = (app: Hono, deps: ProtocolDeps): void => {
  const { ingest } = deps;
  const shape = errorShape(renderHecError);

  const collect = async (c: Context): Promise<Response> => {
    const text = await readBodyText(c.req.raw, deps.maxBodyBytes);
    if (text.trim() === "") return hec(c, HEC.noData);
    const { parts, badAt } = splitConcatenated(text);
    // Query parameters give defaults for events that lack the envelope key (as HEC does).
    const defaults = ENVELOPE_DEFAULTS.flatMap((k) => {
      const v = c.req.query(k);
      return v ? [[k, v] as const] : [];
    });
    const events: unknown[] = [];
    const positions: number[] = [];
    let firstBad: { n: number; answer: HecAnswer; reason?: string } | undefined;
    for (let n = 0; n < parts.length; n++) {
      let raw: unknown;
      try {
        raw = JSON.parse(parts[n] ?? "");
      } catch {
        firstBad ??= { n, answer: HEC.invalidFormat };
        continue;
      }
      if (isObject(raw)) for (const [k, v] of defaults) if (raw[k] === undefined) raw[k] = v;
      const mapped = hecToEvent(raw, ingest.settings.limits.maxSourceLength);
      if (!mapped.ok) {
        firstBad ??= { n, answer: mapped.answer };
        continue;
      }
      events.push(mapped.event);
      positions.push(n);
    }
    if (badAt !== undefined) firstBad ??= { n: parts.length, answer: HEC.invalidFormat };
    // The valid events are kept even when another is refused; the answer names the first refused one.
    const outcome = await ingest.batch(events, { allErrors: true });
    const refused = outcome.errors[0];
    const at = refused ? (positions[refused.index] ?? 0) : undefined;
    if (refused && at !== undefined && (firstBad === undefined || at < firstBad.n))
      firstBad = { n: at, answer: HEC.invalidFormat, reason: `${refused.field}: ${refused.message}` };
    if (firstBad)
      return c.json(
        {
          text: firstBad.reason ? `${firstBad.answer.text}: ${firstBad.reason}` : firstBad.answer.text,
          code: firstBad.answer.code,
          "invalid-event-number": firstBad.n,
        },
        firstBad.answer.status,
      );
    return hec(c, HEC.success);
  };

  const route = [deps.timed("splunk_hec"), shape, ...deps.guards] as const;
  for (const path of ["/services/collector", "/services/collector/event", "/services/collector/event/1.0"])
    app.post(path, ...route, collect);

  const health = async (c: Context) => hec(c, (await deps.health()).ok ? HEC.healthy : HEC.unhealthy);
  app.get("/services/collector/health", shape, health);
};
