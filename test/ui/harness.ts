// Runs the real system (embedded mode, from source) and a headless Chromium for the explorer's browser tests.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { ensureDebianPackages } from "../../scripts/debian-packages.ts";
import { freePort } from "../../scripts/free-port.ts";

const ROOT = resolve(import.meta.dir, "../..");
const CHROMIUM = "/usr/bin/chromium";

// Installed as this file loads, before any hook's clock starts: downloading Chromium takes longer than a
// test's start bound (30 s), and the blocking apt-get would also stall the polling that bound times.
ensureDebianPackages(["chromium"], [CHROMIUM]);

export interface System {
  /** Base URL of the gateway, e.g. http://127.0.0.1:1234 */
  gateway: string;
  producer: string;
  headers: Record<string, string>;
  stop(): Promise<void>;
}

export const startSystem = async (env: Record<string, string> = {}, apiKey?: string): Promise<System> => {
  const dataDir = mkdtempSync(join(tmpdir(), "logproc-ui-"));
  const [gateway, producer, consumer] = [freePort(), freePort(), freePort()];
  const proc = Bun.spawn([join(ROOT, "node_modules/.bin/bun"), "src/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      GATEWAY_PORT: String(gateway),
      PRODUCER_PORT: String(producer),
      CONSUMER_PORT: String(consumer),
      LOG_LEVEL: "warn",
      ...env,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  const sys: System = {
    gateway: `http://127.0.0.1:${gateway}`,
    producer: `http://127.0.0.1:${producer}`,
    headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    stop: async () => {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await until(
      async () => (await fetch(`${sys.gateway}/gateway/ui/`).catch(() => undefined))?.ok === true,
      30_000,
    );
    await until(
      async () =>
        (await fetch(`${sys.producer}/producer/api/logs/health`).catch(() => undefined)) !== undefined,
      30_000,
    );
  } catch (error) {
    // A system that never came up is not left running (it would outlive the test run).
    await sys.stop();
    throw error;
  }
  return sys;
};

export interface SeedEvent {
  level: string;
  message: string;
  source: string;
  timestamp?: string;
  metadata?: Record<string, unknown>;
}

/** Sends events through the producer and waits until the gateway lists `expectTotal` events in total. */
export const ingest = async (sys: System, events: SeedEvent[], expectTotal?: number): Promise<void> => {
  for (let i = 0; i < events.length; i += 500) {
    const res = await fetch(`${sys.producer}/producer/api/logs/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(events.slice(i, i + 500)),
    });
    if (!res.ok) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  }
  if (expectTotal !== undefined)
    await until(
      async () =>
        (await api<{ totalElements: number }>(sys, "logs", { startTime: "0", size: "1" })).totalElements >=
        expectTotal,
    );
};

export const api = async <T>(sys: System, path: string, params: Record<string, string> = {}): Promise<T> => {
  const res = await fetch(`${sys.gateway}/gateway/api/query/${path}?${new URLSearchParams(params)}`, {
    headers: sys.headers,
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
};

/** Polls `check` until it holds; throws with `what` after the deadline. */
export const until = async (
  check: () => Promise<boolean> | boolean,
  deadlineMs = 20_000,
  what = "condition",
): Promise<void> => {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${what} did not hold within ${deadlineMs} ms${last ? `: ${String(last)}` : ""}`);
};

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile (a persistent context is how Playwright takes --user-data-dir). */
export const launchBrowser = async (): Promise<Browser> => {
  const profile = mkdtempSync(join(tmpdir(), "logproc-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
};

const SOURCES = ["api", "db", "auth", "payments", "worker"];
const LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR", "TRACE", "INFO"];
const MESSAGES = [
  (i: number) => `GET /api/orders/${i} 200 in ${(i * 37) % 500} ms`,
  (i: number) => `cache miss for key user:${(i * 13) % 97}`,
  (i: number) => `connection pool at ${(i * 7) % 100}% of capacity`,
  (i: number) => `job ${i} finished after ${(i * 11) % 60} s`,
  (i: number) => `retrying upstream call, attempt ${(i % 3) + 1}`,
];

/** `n` events spread over [from, to] ms, oldest first; every seventh is a "payment declined" ERROR from payments. */
export const spread = (n: number, from: number, to: number, tag = "seed"): SeedEvent[] =>
  Array.from({ length: n }, (_, i) => {
    const declined = i % 7 === 3;
    return {
      level: declined ? "ERROR" : (LEVELS[i % LEVELS.length] ?? "INFO"),
      source: declined ? "payments" : (SOURCES[i % SOURCES.length] ?? "api"),
      message: declined
        ? `payment declined for order ${1000 + i}`
        : (MESSAGES[i % MESSAGES.length]?.(i) ?? ""),
      timestamp: new Date(from + ((to - from) * i) / Math.max(1, n - 1)).toISOString(),
      metadata: {
        tag,
        requestId: `req-${tag}-${i}`,
        region: i % 2 ? "eu-west-1" : "us-east-1",
        user: { id: (i * 13) % 97 },
      },
    };
  });
