// The log explorer's files, embedded in the binary: /gateway/ui/ (the page), its hashed assets, and / → the UI.

import type { Context, Hono } from "hono";
import { ASSETS, INDEX_HTML } from "../ui/generated/assets.ts";

const BASE = "/gateway/ui";

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
  cacheControl: string;
}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
};

// The page runs only its own script and styles and talks only to this origin.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const asset = (text: string, type: string, cacheControl: string): Asset => {
  const body = new TextEncoder().encode(text);
  return {
    body,
    gzip: Bun.gzipSync(body, { level: 9 }),
    type,
    etag: `"${Bun.hash(body).toString(16)}"`,
    cacheControl,
  };
};

/** True when Accept-Encoding admits gzip (and does not refuse it with q=0). */
export const acceptsGzip = (header: string | undefined): boolean =>
  (header ?? "").split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return (coding === "gzip" || coding === "*") && (q === undefined || Number(q.slice(2)) > 0);
  });

const send = (c: Context, a: Asset, extra: Record<string, string> = {}): Response => {
  const headers: Record<string, string> = {
    "Content-Type": a.type,
    "Cache-Control": a.cacheControl,
    ETag: a.etag,
    Vary: "Accept-Encoding",
    "X-Content-Type-Options": "nosniff",
    ...extra,
  };
  if (
    c.req
      .header("if-none-match")
      ?.split(",")
      .some((t) => t.trim() === a.etag)
  )
    return c.body(null, 304, headers);
  if (acceptsGzip(c.req.header("accept-encoding")))
    return c.body(a.gzip, 200, { ...headers, "Content-Encoding": "gzip" });
  return c.body(a.body, 200, headers);
};

export const mountUi = (app: Hono): void => {
  // The page is revalidated on every load (so a new version shows at once); assets are named by their hash.
  const index = asset(INDEX_HTML, TYPES.html ?? "", "no-cache");
  const assets = new Map(
    Object.entries(ASSETS).map(([name, text]) => [
      name,
      asset(
        text,
        TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream",
        "public, max-age=31536000, immutable",
      ),
    ]),
  );
  const page = { "Content-Security-Policy": CSP, "Referrer-Policy": "no-referrer" };

  app.get("/", (c) => c.redirect(`${BASE}/`, 302));
  // A shared link without the trailing slash keeps its query.
  app.get(BASE, (c) => c.redirect(`${BASE}/${new URL(c.req.url).search}`, 301));
  app.get(`${BASE}/`, (c) => send(c, index, page));
  app.get(`${BASE}/index.html`, (c) => send(c, index, page));
  app.get(`${BASE}/assets/:name`, (c) => {
    const a = assets.get(c.req.param("name"));
    return a ? send(c, a) : c.notFound();
  });
};
