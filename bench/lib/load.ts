// Load drivers: a closed loop (N workers, as fast as answers come) and a paced open loop; wrk for cached reads.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureDebianPackages } from "../../scripts/debian-packages.ts";
import type { Phase } from "./progress.ts";

export interface LoopResult {
  /** Per-operation latency, ms. */
  latencies: number[];
  elapsedS: number;
  failures: number;
  firstError?: string;
}

/** Runs `total` operations over `concurrency` workers; each op is timed. Failures are counted, not retried. */
export const closedLoop = async (
  total: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
  progress?: Phase,
): Promise<LoopResult> => {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const t = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - t);
      } catch (error) {
        failures++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      progress?.tick();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return {
    latencies,
    elapsedS: (performance.now() - started) / 1000,
    failures,
    ...(firstError ? { firstError } : {}),
  };
};

/** Starts `op` at a fixed rate for `durationS` seconds (open loop: a slow answer does not slow the schedule). */
export const paced = async (
  ratePerS: number,
  durationS: number,
  op: (i: number) => Promise<void>,
): Promise<LoopResult> => {
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const total = Math.max(1, Math.round(ratePerS * durationS));
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    const t = performance.now();
    pending.push(
      op(i).then(
        () => {
          latencies.push(performance.now() - t);
        },
        (error: unknown) => {
          failures++;
          firstError ??= error instanceof Error ? error.message : String(error);
        },
      ),
    );
  }
  await Promise.all(pending);
  return {
    latencies,
    elapsedS: (performance.now() - started) / 1000,
    failures,
    ...(firstError ? { firstError } : {}),
  };
};

/** Runs `op` over `concurrency` workers for `durationS` seconds (closed loop); each op is timed. */
export const timedLoop = async (
  durationS: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
): Promise<LoopResult & { count: number }> => {
  const latencies: number[] = [];
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const until = started + durationS * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const t = performance.now();
      try {
        await op(next++);
        latencies.push(performance.now() - t);
      } catch (error) {
        failures++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    latencies,
    elapsedS: (performance.now() - started) / 1000,
    failures,
    count: latencies.length + failures,
    ...(firstError ? { firstError } : {}),
  };
};

export interface WrkResult {
  /** Requests completed (any status). */
  requests: number;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** Requests wrk gave up on (no answer within its 2 s timeout). */
  timeouts: number;
}

const toMs = (v: string, unit: string): number =>
  Number(v) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 1);

/** Writes a wrk Lua script into `dir` that POSTs `body` as JSON on every request; returns its path. */
export const wrkPostScript = (dir: string, body: string): string => {
  const script = join(dir, "post.lua");
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[${body}]]\n`,
  );
  return script;
};

/** wrk with --latency (installed first when missing); `script` is a Lua file (e.g. to POST a body). */
export const wrk = async (
  url: string,
  seconds: number,
  connections = 64,
  threads = 1,
  script?: string,
): Promise<WrkResult> => {
  ensureDebianPackages(["wrk"], ["wrk"]);
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency"];
  if (script) args.push("-s", script);
  const proc = Bun.spawn(["wrk", ...args, url], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`wrk failed (${code}): ${err}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)/.exec(out);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const requests = /(\d+) requests in /.exec(out);
  const timeouts = /Socket errors:.*timeout (\d+)/.exec(out);
  if (!rps) throw new Error(`could not read wrk output:\n${out}`);
  return {
    requests: requests ? Number(requests[1]) : Number.NaN,
    requestsPerS: Number(rps[1]),
    p50Ms: p50 ? toMs(p50[1] as string, p50[2] as string) : Number.NaN,
    p99Ms: p99 ? toMs(p99[1] as string, p99[2] as string) : Number.NaN,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    timeouts: timeouts ? Number(timeouts[1]) : 0,
  };
};
