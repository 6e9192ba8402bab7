// The embedded UI: the committed bundle is current and small, and mountUi serves it with the right headers.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Hono } from "hono";
import { buildUi, GENERATED } from "../../scripts/build-ui.ts";
import { acceptsGzip, mountUi } from "../../src/http/ui.ts";
import { ASSETS, INDEX_HTML } from "../../src/ui/generated/assets.ts";

const app = new Hono();
mountUi(app);

const assetNames = Object.keys(ASSETS);
const js = assetNames.find((n) => n.endsWith(".js")) ?? "";
const css = assetNames.find((n) => n.endsWith(".css")) ?? "";

describe("the embedded explorer bundle", () => {
  test("is the build of the current sources (run `bun scripts/build-ui.ts` after changing src/ui)", async () => {
    const current = readFileSync(GENERATED, "utf8") === (await buildUi());
    expect(current ? "current" : "stale: run `bun scripts/build-ui.ts`").toBe("current");
  });

  test("weighs under 150 KB of JS and CSS gzipped", () => {
    const gzipped = Object.values(ASSETS).reduce(
      (sum, text) => sum + Bun.gzipSync(new TextEncoder().encode(text)).byteLength,
      0,
    );
    expect(gzipped).toBeLessThan(150 * 1024);
  });

  test("the page names its script and style sheet by content hash", () => {
    expect(js).toMatch(/^app\.[0-9a-f]{12}\.js$/);
    expect(css).toMatch(/^app\.[0-9a-f]{12}\.css$/);
    expect(INDEX_HTML).toContain(`assets/${js}`);
    expect(INDEX_HTML).toContain(`assets/${css}`);
  });
});

describe("mountUi", () => {
  test("/ redirects to the explorer, and /gateway/ui keeps a shared link's query", async () => {
    const root = await app.request("/");
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/gateway/ui/");
    const bare = await app.request("/gateway/ui?q=timeout&range=1h");
    expect(bare.status).toBe(301);
    expect(bare.headers.get("location")).toBe("/gateway/ui/?q=timeout&range=1h");
  });

  test("serves the page as HTML, revalidated on every load and locked to its own origin", async () => {
    const res = await app.request("/gateway/ui/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await res.text()).toBe(INDEX_HTML);
  });

  test("serves hashed assets with their content type, cached for good", async () => {
    for (const [name, type] of [
      [js, "text/javascript; charset=utf-8"],
      [css, "text/css; charset=utf-8"],
    ] as const) {
      const res = await app.request(`/gateway/ui/assets/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("vary")).toBe("Accept-Encoding");
      expect(res.headers.get("content-encoding")).toBeNull();
      expect(await res.text()).toBe(ASSETS[name] ?? "");
    }
  });

  test("gzips for a client that accepts it", async () => {
    const res = await app.request(`/gateway/ui/assets/${js}`, {
      headers: { "accept-encoding": "br, gzip;q=0.8" },
    });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(Bun.gunzipSync(body))).toBe(ASSETS[js] ?? "");
    expect(body.byteLength).toBeLessThan((ASSETS[js] ?? "").length);
  });

  test("answers 304 to a matching If-None-Match", async () => {
    const first = await app.request("/gateway/ui/");
    const etag = first.headers.get("etag") ?? "";
    expect(etag).not.toBe("");
    const again = await app.request("/gateway/ui/", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  test("an unknown asset is a 404", async () => {
    expect((await app.request("/gateway/ui/assets/app.000000000000.js")).status).toBe(404);
  });

  test("reads Accept-Encoding, q=0 included", () => {
    expect(acceptsGzip("gzip, deflate, br")).toBe(true);
    expect(acceptsGzip("*")).toBe(true);
    expect(acceptsGzip("gzip;q=0, br")).toBe(false);
    expect(acceptsGzip("identity")).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
