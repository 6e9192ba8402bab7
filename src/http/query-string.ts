// A query request's URL read as sent: its raw path and query string (memo keys) and its parameters.

import { getQueryParams } from "hono/utils/url";
import type { Params } from "../domain/query-params.ts";

/** Parameters that take a comma-separated list; repeating the parameter adds to the list too. */
const LISTS = new Set(["level", "source"]);

/** The query string exactly as sent (the memo key of its parse). */
export const rawQuery = (url: string): string => {
  const at = url.indexOf("?");
  if (at < 0) return "";
  const hash = url.indexOf("#", at);
  return hash < 0 ? url.slice(at + 1) : url.slice(at + 1, hash);
};

/** The path of an absolute URL as sent (not decoded), without its query or fragment. */
export const rawPath = (url: string): string => {
  const scheme = url.indexOf("://");
  const start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
  if (start < 0) return "/";
  let end = url.indexOf("?", start);
  if (end < 0) end = url.indexOf("#", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
};

/** The query parameters as Hono's c.req.queries() decodes them, each list parameter joined into one value. */
export const paramsOf = (url: string): Params => {
  // Keyed by whatever names the client sends: no prototype, so "__proto__" or "constructor" is just a name.
  const out: Params = Object.create(null);
  // Without a key it answers every parameter's values (its declared type also covers the keyed call).
  const all = getQueryParams(url) as Record<string, string[]>;
  for (const [name, values] of Object.entries(all))
    out[name] = LISTS.has(name) ? values.join(",") : values[0];
  return out;
};
