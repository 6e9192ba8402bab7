// Load drivers: a closed loop (N workers, as fast as answers come) and a paced open loop; wrk for cached reads.

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

export interface WrkResult {
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
}

const toMs = (v: string, unit: string): number =>
  Number(v) * (unit === "us" ? 0.001 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 1);

/** wrk with --latency (installed first when missing). */
export const wrk = async (
  url: string,
  seconds: number,
  connections = 64,
  threads = 1,
): Promise<WrkResult> => {
  ensureDebianPackages(["wrk"], ["wrk"]);
  const proc = Bun.spawn(["wrk", `-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency", url], {
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
  if (!rps) throw new Error(`could not read wrk output:\n${out}`);
  return {
    requestsPerS: Number(rps[1]),
    p50Ms: p50 ? toMs(p50[1] as string, p50[2] as string) : Number.NaN,
    p99Ms: p99 ? toMs(p99[1] as string, p99[2] as string) : Number.NaN,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
};
