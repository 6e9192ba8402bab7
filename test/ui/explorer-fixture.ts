// The seeded system and browser the explorer's browser tests share, and helpers to read the page.

import { afterAll, afterEach, beforeAll, expect } from "bun:test";
import type { Page } from "playwright-core";
import {
  type Browser,
  ingest,
  launchBrowser,
  type SeedEvent,
  type System,
  spread,
  startSystem,
} from "./harness.ts";

export const M = 60_000;
export const H = 60 * M;
export const now = Date.now();
export const old = spread(40, now - 5 * H, now - 3 * H, "old");
export const recent = spread(280, now - 14 * M, now - 10_000, "recent");
export const all = [...old, ...recent];
/**
 * The tail follows arrival, not event time: probes stamped two days back (and FATAL, a level the seed lacks)
 * reach the tail yet leave every window and count the other tests check unchanged, whatever their order.
 */
export const outside = new Date(now - 48 * H).toISOString();
export const count = (events: SeedEvent[], keep: (e: SeedEvent) => boolean) => events.filter(keep).length;

export const rowCount = (page: Page) => page.locator("#rows tr.row").count();
export const summary = async (page: Page) => (await page.locator("#summary").textContent()) ?? "";
export const param = (page: Page, name: string) => new URL(page.url()).searchParams.get(name);

export interface Explorer {
  sys(): System;
  /** Opens the explorer (at `path` under the gateway) and waits for its first rows. */
  open(path?: string): Promise<Page>;
}

/** Registers the hooks of a test file: one seeded system and one browser; every page checked for script errors. */
export const useExplorer = (): Explorer => {
  let sys: System | undefined;
  let browser: Browser | undefined;
  const pages: Page[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    [sys, browser] = await Promise.all([startSystem(), launchBrowser()]);
    await ingest(sys, all, all.length);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sys?.stop();
  }, 30_000);

  afterEach(async () => {
    for (const p of pages.splice(0)) await p.close();
    // Script errors and CSP violations show up here; a 4xx a test provoked on purpose is not a problem.
    const seen = problems.splice(0).filter((m) => !m.includes("Failed to load resource"));
    expect(seen).toEqual([]);
  });

  const running = (): { sys: System; browser: Browser } => {
    if (!sys || !browser) throw new Error("the system and browser start in beforeAll");
    return { sys, browser };
  };

  return {
    sys: () => running().sys,
    open: async (path = "/gateway/ui/") => {
      const { sys, browser } = running();
      const page = await browser.context.newPage();
      pages.push(page);
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
      await page.goto(`${sys.gateway}${path}`);
      await page.locator("#rows tr.row").first().waitFor();
      return page;
    },
  };
};
