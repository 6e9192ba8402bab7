// The log explorer in a real Chromium against the real system: time ranges, scrolling, live tail, stats.

import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { all, count, H, M, now, outside, param, recent, summary, useExplorer } from "./explorer-fixture.ts";
import { ingest, until } from "./harness.ts";

setDefaultTimeout(60_000);
const ex = useExplorer();

describe("log explorer: time, scrolling, live tail and stats", () => {
  test("dragging across the histogram zooms into that time range", async () => {
    const page = await ex.open("/gateway/ui/?range=1h");
    await page.locator("#hist .bucket").first().waitFor();
    const box = await page.locator("#hist").boundingBox();
    if (!box) throw new Error("the histogram has no box");
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.9, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await until(() => param(page, "from") !== null && param(page, "to") !== null, 10_000, "zoomed URL");
    expect(await page.locator("#range").inputValue()).toBe("abs");
    const from = Date.parse(param(page, "from") ?? "");
    const to = Date.parse(param(page, "to") ?? "");
    expect(from).toBeGreaterThan(now - H);
    const inside = count(
      all,
      (e) => Date.parse(e.timestamp ?? "") >= from && Date.parse(e.timestamp ?? "") <= to,
    );
    expect(inside).toBeGreaterThan(0);
    expect(inside).toBeLessThan(recent.length);
    await until(
      async () => (await summary(page)).startsWith(`${inside} events`),
      20_000,
      "rows of the zoomed range",
    );
    await page.goBack();
    await until(
      async () => (await page.locator("#range").inputValue()) === "1h",
      10_000,
      "Back undoes the zoom",
    );
  });

  test("an absolute range typed into the picker is applied and kept in the URL", async () => {
    const page = await ex.open();
    await page.locator("#range").selectOption("abs");
    const from = now - 10 * M;
    const to = now - 5 * M;
    // datetime-local takes the browser's wall-clock time, to the second.
    const local = (ms: number) =>
      page.evaluate<string>(
        `new Date(${ms} - new Date(${ms}).getTimezoneOffset() * 60000).toISOString().slice(0, 19)`,
      );
    await page.locator("#from").fill(await local(from));
    await page.locator("#to").fill(await local(to));
    await page.locator("#abs button[type=submit]").click();
    await until(() => param(page, "from") !== null, 10_000, "absolute range in the URL");
    const start = Date.parse(param(page, "from") ?? "");
    const end = Date.parse(param(page, "to") ?? "");
    expect(start).toBe(Math.floor(from / 1000) * 1000);
    expect(end).toBe(Math.floor(to / 1000) * 1000);
    const inside = count(
      all,
      (e) => Date.parse(e.timestamp ?? "") >= start && Date.parse(e.timestamp ?? "") <= end,
    );
    await until(
      async () => (await summary(page)).startsWith(`${inside} events`),
      20_000,
      "rows of the absolute range",
    );
  });

  test("scrolling to the end loads the following pages by cursor, without gaps or repeats", async () => {
    const page = await ex.open("/gateway/ui/?range=1h");
    await until(
      async () => {
        await page.mouse.wheel(0, 20_000);
        return (await page.locator("#sentinel").textContent()) === "End of results";
      },
      30_000,
      "the end of the results",
    );
    const ids = await page
      .locator("#rows tr.row")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
    expect(ids.length).toBe(recent.length);
    expect(new Set(ids).size).toBe(recent.length);
  });

  test("live tail shows an event ingested during the test, and pause holds events until resume", async () => {
    const page = await ex.open();
    await page.locator("#live").check();
    await until(
      async () => ((await page.locator("#rate").textContent()) ?? "").includes("live"),
      20_000,
      "tail ready",
    );
    expect(param(page, "live")).toBe("1");
    const probe = `live probe ${crypto.randomUUID()}`;
    await ingest(ex.sys(), [{ level: "FATAL", message: probe, source: "probe", timestamp: outside }]);
    await until(
      async () => (await page.locator("#rows tr.row").first().textContent())?.includes(probe) === true,
      20_000,
      "probe row",
    );
    expect(await page.locator("#rate").textContent()).toMatch(/events\/s/);

    await page.locator("#pause").click();
    const held = `held probe ${crypto.randomUUID()}`;
    await ingest(ex.sys(), [{ level: "FATAL", message: held, source: "probe", timestamp: outside }]);
    await until(
      async () => ((await page.locator("#rate").textContent()) ?? "").includes("1 held"),
      20_000,
      "held count",
    );
    expect(await page.locator("#rows").textContent()).not.toContain(held);
    await page.locator("#pause").click();
    await until(
      async () => (await page.locator("#rows tr.row").first().textContent())?.includes(held) === true,
      20_000,
      "held row",
    );
  });

  test("the stats view counts by level and ranks the top sources for the window", async () => {
    const page = await ex.open("/gateway/ui/?range=1h&view=stats");
    const errorRow = page.locator('#stats tr[data-name="ERROR"] td.num');
    await errorRow.waitFor();
    expect(await errorRow.textContent()).toBe(String(count(recent, (e) => e.level === "ERROR")));
    const info = page.locator('#stats tr[data-name="INFO"] td.num');
    expect(await info.textContent()).toBe(String(count(recent, (e) => e.level === "INFO")));
    const bySource = new Map<string, number>();
    for (const e of recent) bySource.set(e.source, (bySource.get(e.source) ?? 0) + 1);
    const top = [...bySource.entries()].sort((a, b) => b[1] - a[1])[0];
    const firstSource = page.locator("#stats section:nth-child(2) tr").first();
    expect(await firstSource.getAttribute("data-name")).toBe(top?.[0] ?? "");
    expect(await firstSource.locator("td.num").textContent()).toBe(String(top?.[1]));
  });

  test("renders the overview (saved when UI_SCREENSHOT names a file)", async () => {
    const page = await ex.open("/gateway/ui/?range=1h&view=stats");
    await page.locator("#hist .bucket").first().waitFor();
    await page.locator('#stats tr[data-name="ERROR"]').waitFor();
    await page.locator("#rows tr.row").nth(2).click();
    await page.locator("#rows tr.detail").waitFor();
    await page.locator("#toast").waitFor({ state: "hidden" });
    const png = await page.screenshot(process.env.UI_SCREENSHOT ? { path: process.env.UI_SCREENSHOT } : {});
    expect(png.byteLength).toBeGreaterThan(10_000);
  });
});
