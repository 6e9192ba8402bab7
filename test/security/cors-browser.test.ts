// CORS as a real browser enforces it: a page on one origin reads the compiled binary's query API on
// another origin with an Authorization header (a preflighted request), with CORS_ORIGINS * and with a list.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import type { Page } from "playwright-core";
import { BINARY, freePorts, type Spawned, spawnLogproc, tempDir, waitFor } from "../helpers/proc.ts";
import { type Browser, launchBrowser, until } from "../ui/harness.ts";

setDefaultTimeout(120_000);

const KEY = "cors-query-key-4b1d";
const Q = "/gateway/api/query";

interface Gateway {
  base: string;
  producer: string;
  proc: Spawned;
  dir: string;
}

const startGateway = async (env: Record<string, string>): Promise<Gateway> => {
  const ports = freePorts();
  const dir = tempDir();
  const proc = spawnLogproc(
    [],
    {
      GATEWAY_PORT: String(ports.gateway),
      PRODUCER_PORT: String(ports.producer),
      CONSUMER_PORT: String(ports.consumer),
      HOST: "127.0.0.1",
      DATA_DIR: dir,
      QUERY_API_KEYS: KEY,
      ...env,
    },
    [BINARY],
  );
  const base = `http://127.0.0.1:${ports.gateway}`;
  await waitFor(`${base}${Q}/health`);
  return { base, producer: `http://127.0.0.1:${ports.producer}`, proc, dir };
};

/** A page server on its own port (its own origin): serves an empty page the tests script. */
const pageServer = () =>
  Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response("<!doctype html><title>client</title>", { headers: { "content-type": "text/html" } }),
  });

type Outcome =
  | { ok: true; status: number; body: string; requestId: string | null }
  | { ok: false; error: string };

/** Runs fetch() inside the page, as the page's own script would. */
const fetchFrom = (page: Page, url: string, headers: Record<string, string>): Promise<Outcome> =>
  page.evaluate(
    async ({ url, headers }) => {
      try {
        const res = await fetch(url, { headers });
        return {
          ok: true as const,
          status: res.status,
          body: await res.text(),
          requestId: res.headers.get("x-request-id"),
        };
      } catch (error) {
        return { ok: false as const, error: String(error) };
      }
    },
    { url, headers },
  );

const counted = async (g: Gateway, status: number): Promise<number> => {
  const text = await (await fetch(`${g.base}/metrics`)).text();
  const line = text
    .split("\n")
    .find((l) => l.startsWith(`http_requests_total{role="gateway",status="${status}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
};

let browser: Browser;
let page: Page;
const gateways: Gateway[] = [];
const pages: ReturnType<typeof pageServer>[] = [];
let allowedOrigin = "";
let otherOrigin = "";

beforeAll(async () => {
  const [a, b] = [pageServer(), pageServer()];
  pages.push(a, b);
  allowedOrigin = `http://127.0.0.1:${a.port}`;
  otherOrigin = `http://127.0.0.1:${b.port}`;
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  for (const p of pages) p.stop(true);
  for (const g of gateways) {
    g.proc.proc.kill("SIGTERM");
    await g.proc.proc.exited;
    rmSync(g.dir, { recursive: true, force: true });
  }
});

const seeded = async (env: Record<string, string>): Promise<Gateway> => {
  const g = await startGateway(env);
  gateways.push(g);
  const res = await fetch(`${g.producer}/producer/api/logs/ingest`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ level: "WARN", message: "read across origins", source: "cors" }),
  });
  expect(res.status).toBe(200);
  await until(async () => {
    const r = await fetch(`${g.base}${Q}/logs?source=cors`, { headers: { "X-API-Key": KEY } });
    return ((await r.json()) as { totalElements: number }).totalElements === 1;
  });
  return g;
};

describe("with the default CORS_ORIGINS (*)", () => {
  test("a page on another origin reads a listing with an Authorization header, twice (routed, then hot)", async () => {
    const g = await seeded({});
    await page.goto(`${otherOrigin}/`);
    const preflightsBefore = await counted(g, 204);
    const url = `${g.base}${Q}/logs?source=cors&size=5`;
    for (let i = 0; i < 2; i++) {
      const got = await fetchFrom(page, url, { Authorization: `Bearer ${KEY}` });
      expect(got).toMatchObject({ ok: true, status: 200 });
      // Readable by the page only because Access-Control-Expose-Headers lists it.
      if (got.ok) expect(got.requestId).toMatch(/^[0-9a-f-]{36}$/);
      if (got.ok) expect(got.body).toContain("read across origins");
    }
    // The Authorization header made the browser ask first: the gateway answered its preflight (204).
    expect(await counted(g, 204)).toBeGreaterThan(preflightsBefore);
    // The health answer the replaced design's clients read is readable cross-origin too.
    const health = await fetchFrom(page, `${g.base}${Q}/health`, {});
    expect(health.ok && JSON.parse(health.body)).toMatchObject({ status: "healthy", service: "api-gateway" });
  });

  test("a wrong key is a 401 the page can read, not an opaque network error", async () => {
    const g = gateways[0];
    if (!g) throw new Error("the first test starts the gateway");
    await page.goto(`${otherOrigin}/`);
    const got = await fetchFrom(page, `${g.base}${Q}/logs`, { "X-API-Key": "wrong" });
    expect(got).toMatchObject({ ok: true, status: 401 });
  });
});

describe("with CORS_ORIGINS naming one origin", () => {
  test("that origin reads; any other origin is refused by the browser", async () => {
    const g = await seeded({ CORS_ORIGINS: allowedOrigin });
    const url = `${g.base}${Q}/logs?source=cors`;
    await page.goto(`${allowedOrigin}/`);
    const allowed = await fetchFrom(page, url, { Authorization: `Bearer ${KEY}` });
    expect(allowed).toMatchObject({ ok: true, status: 200 });
    await page.goto(`${otherOrigin}/`);
    const refused = await fetchFrom(page, url, { Authorization: `Bearer ${KEY}` });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error).toContain("TypeError");
  });
});
