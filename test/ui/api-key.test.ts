// The explorer against a gateway that requires an API key: asked once, kept for the session, used by the tail.

import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Page } from "playwright-core";
import { type Browser, ingest, launchBrowser, type System, spread, startSystem, until } from "./harness.ts";

setDefaultTimeout(60_000);

const KEY = "ui-test-key-7f3a";
const H = 3_600_000;
// Only older events: the default 15-minute range is empty, so the explorer widens it to 24 hours.
const seed = spread(30, Date.now() - 3 * H, Date.now() - 2 * H, "keyed");

let sys: System;
let browser: Browser;
const pages: Page[] = [];

beforeAll(async () => {
  [sys, browser] = await Promise.all([startSystem({ QUERY_API_KEYS: KEY }, KEY), launchBrowser()]);
  await ingest(sys, seed, seed.length);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
}, 30_000);

afterEach(async () => {
  for (const p of pages.splice(0)) await p.close();
});

const newPage = async (): Promise<Page> => {
  const page = await browser.context.newPage();
  pages.push(page);
  return page;
};

const enterKey = async (page: Page): Promise<void> => {
  await page.locator("#error button", { hasText: "Enter API key" }).click();
  await page.locator("#key-input").fill(KEY);
  await page.locator("#key-input").press("Enter");
};

describe("log explorer with API keys", () => {
  test("asks for the key on 401, keeps it for the browser session, and widens an empty 15 minutes to 24 h", async () => {
    const page = await newPage();
    await page.goto(`${sys.gateway}/gateway/ui/`);
    const error = page.locator("#error");
    await error.waitFor();
    expect(await error.textContent()).toContain("HTTP 401 unauthorized");
    await enterKey(page);
    await page.locator("#rows tr.row").first().waitFor();
    expect(await page.locator("#error").isHidden()).toBe(true);
    expect(await page.locator("#notice").textContent()).toContain("showing the last 24 hours");
    expect(await page.locator("#range").inputValue()).toBe("24h");
    expect(new URL(page.url()).searchParams.get("range")).toBe("24h");
    await until(async () => (await page.locator("#rows tr.row").count()) === seed.length, 20_000, "all rows");
    expect(await page.evaluate("sessionStorage.getItem('logproc.apiKey')")).toBe(KEY);

    await page.reload();
    await page.locator("#rows tr.row").first().waitFor();
    expect(await page.locator("#error").isHidden()).toBe(true);
    expect(await page.locator("#key-btn").textContent()).toBe("API key ✓");

    // A new tab is a new session: it has to ask again.
    const other = await newPage();
    await other.goto(`${sys.gateway}/gateway/ui/`);
    await other.locator("#error").waitFor();
    expect(await other.locator("#error").textContent()).toContain("HTTP 401");
  });

  test("the live tail sends the key and streams an event ingested during the test", async () => {
    const page = await newPage();
    await page.goto(`${sys.gateway}/gateway/ui/?range=24h&live=1`);
    await page.locator("#error").waitFor();
    await enterKey(page);
    await until(
      async () => ((await page.locator("#rate").textContent()) ?? "").includes("live"),
      20_000,
      "tail ready",
    );
    const probe = `keyed tail probe ${crypto.randomUUID()}`;
    await ingest(sys, [{ level: "WARN", message: probe, source: "probe" }]);
    await until(
      async () => (await page.locator("#rows tr.row").first().textContent())?.includes(probe) === true,
      20_000,
      "probe row",
    );
  });
});
