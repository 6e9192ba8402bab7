// Spawning logproc roles (and other helpers) on free loopback ports; peak RSS and CPU time from /proc.

import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "../../scripts/free-port.ts";
import { DEPLOYED_RUNTIME_ENV } from "../../scripts/runtime-env.ts";

export { freePort };

export const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist/logproc");
export const BUN = join(ROOT, "node_modules/.bin/bun");
export { KAFKA_LIBS } from "../../scripts/kafka-tools.ts";

/** VmHWM (peak resident set) of a live process, in bytes; NaN once it has gone. */
export const peakRss = (pid: number): number => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
};

/** User + system CPU seconds from a /proc stat file (a process's, or one thread's under task/); NaN once gone. */
export const statCpuSeconds = (statPath: string): number => {
  try {
    const fields = readFileSync(statPath, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
};

/** User + system CPU seconds a live process has used. */
export const cpuSeconds = (pid: number): number => statCpuSeconds(`/proc/${pid}/stat`);

export interface Running {
  pid: number;
  name: string;
  /** Peak RSS and CPU seconds read just before the process is stopped. */
  stop(): Promise<{ peakRssBytes: number; cpuSeconds: number; stderr: string }>;
  exited: Promise<number>;
  /** null while it runs. */
  exitCode(): number | null;
  stderr(): string;
}

/**
 * The runtime's settings for every process a benchmark starts: the allocator's purge delay as the container
 * image sets it (docs/operating.md), and whatever MIMALLOC_*, BUN_JSC_*, KAFKA_COMPRESSION or CONSUMER_WRITERS
 * the benchmark itself was given, passed on to measure them (MIMALLOC_PURGE_DELAY=100 is the runtime's own
 * default).
 */
const runtimeEnv = (): Record<string, string> => ({
  ...DEPLOYED_RUNTIME_ENV,
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] =>
        (e[0].startsWith("MIMALLOC_") ||
          e[0].startsWith("BUN_JSC_") ||
          e[0] === "KAFKA_COMPRESSION" ||
          e[0] === "CONSUMER_WRITERS") &&
        e[1] !== undefined,
    ),
  ),
});

export const start = (name: string, cmd: string[], env: Record<string, string>): Running => {
  const proc = Bun.spawn(cmd, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      LOG_LEVEL: "warn",
      ...runtimeEnv(),
      ...env,
    },
    stdout: "ignore",
    stderr: "pipe",
  });
  let err = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      err += decoder.decode(chunk);
      if (err.length > 200_000) err = err.slice(-100_000);
    }
  })().catch(() => {});
  return {
    pid: proc.pid,
    name,
    exited: proc.exited,
    exitCode: () => proc.exitCode,
    stderr: () => err,
    stop: async () => {
      const peak = peakRss(proc.pid);
      const cpu = cpuSeconds(proc.pid);
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      await proc.exited;
      clearTimeout(timer);
      await reading;
      return { peakRssBytes: peak, cpuSeconds: cpu, stderr: err };
    },
  };
};

export interface RolePorts {
  gateway: number;
  producer: number;
  consumer: number;
}

/** Starts `dist/logproc --role <role>` (or another build of it) on free ports. */
export const startRole = (
  role: "producer" | "consumer" | "gateway" | "all",
  env: Record<string, string>,
  binary = BINARY,
): Running & { ports: RolePorts } => {
  const ports = { gateway: freePort(), producer: freePort(), consumer: freePort() };
  const r = start(role, [binary, "--role", role], {
    HOST: "127.0.0.1",
    GATEWAY_PORT: String(ports.gateway),
    PRODUCER_PORT: String(ports.producer),
    CONSUMER_PORT: String(ports.consumer),
    PROMETHEUS_ENABLED: "true",
    ...env,
  });
  return { ...r, ports };
};

/** Polls a URL until it answers 2xx, or throws after the deadline (with the process' stderr if given). */
export const waitFor = async (url: string, deadlineMs = 60_000, proc?: Running): Promise<void> => {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `status ${res.status}: ${(await res.text()).slice(0, 200)}`;
    } catch (error) {
      last = error;
    }
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not answer: ${String(last)}\n${proc?.stderr().slice(-2000) ?? ""}`);
};

/** Runs a command to completion; throws with its output when it fails. */
export const run = async (cmd: string[], env?: Record<string, string>): Promise<string> => {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err.slice(-2000)}`);
  return out + err;
};
