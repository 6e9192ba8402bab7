// Spawning logproc (the compiled binary or the source) on free ports, and waiting for it to answer.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../../scripts/free-port.ts";
import { DEPLOYED_RUNTIME_ENV } from "../../scripts/runtime-env.ts";

export { freePort };

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist/logproc");
export const BUN = join(ROOT, "node_modules/.bin/bun");

export const tempDir = (prefix = "logproc-"): string => mkdtempSync(join(tmpdir(), prefix));

export interface Ports {
  gateway: number;
  producer: number;
  consumer: number;
}

export const freePorts = (): Ports => ({ gateway: freePort(), producer: freePort(), consumer: freePort() });

export const portEnv = (p: Ports): Record<string, string> => ({
  GATEWAY_PORT: String(p.gateway),
  PRODUCER_PORT: String(p.producer),
  CONSUMER_PORT: String(p.consumer),
  HOST: "127.0.0.1",
});

/** Polls a URL until it answers (any status below 500 unless `ok` demands 2xx), or throws after the deadline. */
export const waitFor = async (url: string, deadlineMs = 30_000, ok = true): Promise<Response> => {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (!ok || res.ok) return res;
      last = `status ${res.status}`;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer: ${String(last)}`);
};

export interface Spawned {
  proc: ReturnType<typeof Bun.spawn>;
  stderr: () => Promise<string>;
}

export const spawnLogproc = (
  args: string[],
  env: Record<string, string>,
  cmd: string[] = [BINARY],
): Spawned => {
  const proc = Bun.spawn([...cmd, ...args], {
    // The runtime settings of the container image: memory bounds are checked as deployed.
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      LOG_LEVEL: "warn",
      ...DEPLOYED_RUNTIME_ENV,
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { proc, stderr: () => new Response(proc.stderr as ReadableStream).text() };
};
