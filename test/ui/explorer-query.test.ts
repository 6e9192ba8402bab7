// The log explorer in a real Chromium against the real system: load, search, filter, expand, share, errors.

import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { all, count, param, recent, rowCount, summary, useExplorer } from "./explorer-fixture.ts";
import { api, until } from "./harness.ts";

setDefaultTimeout(60_000);
const ex = useExplorer();

describe("log explorer: querying", () => {
  test("/ redirects to the explorer, which opens on the newest events of the last 15 minutes", async () => {
    const page = await ex.open("/");
    expect(new URL(page.url()).pathname).toBe("/gateway/ui/");
    const newest = await api<{ content: { id: string }[] }>(ex.sys(), "logs", { size: "1" });
    expect(await page.locator("#rows tr.row").first().getAttribute("data-id")).toBe(
      newest.content[0]?.id ?? "",
    );
    expect(await page.locator("#range").inputValue()).toBe("15m");
    await until(async () => (await summary(page)).startsWith(`${recent.length} events`), 20_000, "summary");
    expect(await rowCount(page)).toBe(100);
    await page.locator("#hist .bucket").first().waitFor();
    const bars = await page
      .locator("#hist .bucket")
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-count"))));
    expect(bars.reduce((a, b) => a + b, 0)).toBe(recent.length);
  });

  test("/ focuses the search, Enter runs it, and the matched words are marked", async () => {
    const page = await ex.open();
    await page.locator("body").click({ position: { x: 5, y: 400 } });
    await page.keyboard.press("/");
    expect(await page.evaluate("document.activeElement.id")).toBe("q");
    await page.keyboard.type('"payment declined"');
    await page.keyboard.press("Enter");
    const expected = count(recent, (e) => e.message.includes("payment declined"));
    await until(async () => (await summary(page)).startsWith(`${expected} events`), 20_000, "search results");
    expect(param(page, "q")).toBe('"payment declined"');
    const messages = await page.locator("#rows td.message").allTextContents();
    expect(messages.length).toBe(expected);
    for (const m of messages) expect(m).toContain("payment declined");
    expect(await page.locator("#rows mark").count()).toBe(2 * expected);
  });

  test("level and source filters narrow the results and are kept in the URL", async () => {
    const page = await ex.open();
    await page.locator("#level-select summary").click();
    await page.locator('#level-select input[value="ERROR"]').check();
    await until(() => param(page, "level") === "ERROR", 10_000, "level in the URL");
    const errors = count(recent, (e) => e.level === "ERROR");
    await until(async () => (await summary(page)).startsWith(`${errors} events`), 20_000, "ERROR rows");
    expect(new Set(await page.locator("#rows .lvl").allTextContents())).toEqual(new Set(["ERROR"]));
    await page.locator("#source-select summary").click();
    await page.locator('#source-select input[value="payments"]').check();
    const both = count(recent, (e) => e.level === "ERROR" && e.source === "payments");
    await until(
      async () => (await summary(page)).startsWith(`${both} events`),
      20_000,
      "ERROR rows from payments",
    );
    expect(param(page, "source")).toBe("payments");
    expect(new Set(await page.locator("#rows td.source").allTextContents())).toEqual(new Set(["payments"]));
  });

  test("a click on a row expands its metadata JSON and copies the event id", async () => {
    const page = await ex.open();
    const row = page.locator("#rows tr.row").first();
    const id = (await row.getAttribute("data-id")) ?? "";
    await row.click();
    const detail = page.locator(`#rows tr.detail[data-for="${id}"]`);
    await detail.waitFor();
    expect(await detail.locator("pre.metadata").textContent()).toContain('"tag": "recent"');
    await until(
      async () => (await page.locator("#toast").textContent()) === `Copied event id ${id}`,
      10_000,
      "toast",
    );
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(id);
    await row.click();
    await detail.waitFor({ state: "detached" });
  });

  test("a shared link restores the whole query", async () => {
    const page = await ex.open("/gateway/ui/?q=declined&level=ERROR&source=payments&range=24h");
    expect(await page.locator("#q").inputValue()).toBe("declined");
    expect(await page.locator("#range").inputValue()).toBe("24h");
    expect(await page.locator("#level-select summary").textContent()).toBe("Level: ERROR");
    expect(await page.locator("#source-select summary").textContent()).toBe("Source: payments");
    const expected = count(all, (e) => e.message.includes("declined"));
    await until(
      async () => (await summary(page)).startsWith(`${expected} events`),
      20_000,
      "restored results",
    );
  });

  test("an API error is shown as the server worded it", async () => {
    const page = await ex.open();
    await page.locator("#q").fill("---");
    await page.locator("#q").press("Enter");
    const error = page.locator("#error");
    await error.waitFor();
    const text = (await error.textContent()) ?? "";
    expect(text).toContain("HTTP 400 validation_failed");
    expect(text).toContain("has no word to search for");
    expect(text).toContain("request id");
  });
});
