// Fault-test processes: dist/logproc spawned with its stderr drained, killed in the end; services.sh; polling.

import { resolve } from "node:path";
import { BINARY, type Ports } from "./proc.ts";

const SERVICES_SH = resolve(import.meta.dir, "../../scripts/services.sh");
const STDERR_KEEP = 4 * 1024 * 1024;
/** FAULTS_BINARY runs the suite against another build (e.g. a candidate fix); the default is dist/logproc. */
const LOGPROC = process.env.FAULTS_BINARY ?? BINARY;

/** scripts/services.sh start|stop kafka|postgres|redis; `env` points it at a private instance. */
export const services = async (
  action: "start" | "stop",
  service: "kafka" | "postgres" | "redis",
  env: Record<string, string> = {},
): Promise<void> => {
  const proc = Bun.spawn(["bash", SERVICES_SH, action, service], {
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`services.sh ${action} ${service} failed (${code}):\n${stderr}`);
};

/** Polls until check() holds; the error names what was awaited and, when given, the processes' last words. */
export const waitUntil = async (
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 250,
  context?: () => string,
): Promise<void> => {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (Date.now() > until)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${context ? `\n${context()}` : ""}`,
      );
    await Bun.sleep(everyMs);
  }
};

const running = new Set<LogprocProcess>();

/** One dist/logproc process; its stderr is drained all along (a full pipe would block the process). */
export class LogprocProcess {
  readonly proc: ReturnType<typeof Bun.spawn>;
  readonly exited: Promise<number>;
  private text = "";

  constructor(
    readonly name: string,
    readonly ports: Ports,
    args: string[],
    env: Record<string, string>,
  ) {
    this.proc = Bun.spawn([LOGPROC, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "warn", ...env },
      stdout: "ignore",
      stderr: "pipe",
    });
    running.add(this);
    const drained = this.drain();
    this.exited = this.proc.exited.then(async (code) => {
      await drained;
      running.delete(this);
      return code;
    });
  }

  private async drain(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.proc.stderr as ReadableStream<Uint8Array>) {
      this.text += decoder.decode(chunk, { stream: true });
      if (this.text.length > STDERR_KEEP) this.text = this.text.slice(-STDERR_KEEP / 2);
    }
  }

  get pid(): number {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get stderr(): string {
    return this.text;
  }

  /** The JSON log lines (others skipped). */
  records(): Record<string, unknown>[] {
    return this.text
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  tail(lines = 25): string {
    return `--- ${this.name} (pid ${this.pid}, ${this.alive ? "alive" : `exit ${this.proc.exitCode ?? this.proc.signalCode}`}) ---\n${this.text.split("\n").slice(-lines).join("\n")}`;
  }

  /** kill -9 and wait for the exit. */
  async kill9(): Promise<void> {
    this.proc.kill(9);
    await this.exited;
  }

  /** The exit code and how long the wait took, or undefined if the process still runs after boundMs. */
  async exitWithin(boundMs: number): Promise<{ code: number; ms: number } | undefined> {
    const started = Date.now();
    const code = await Promise.race([this.exited, Bun.sleep(boundMs).then(() => undefined)]);
    return code === undefined ? undefined : { code, ms: Date.now() - started };
  }

  /** Sends the signal, then exitWithin(boundMs). */
  signal(sig: NodeJS.Signals, boundMs: number): Promise<{ code: number; ms: number } | undefined> {
    this.proc.kill(sig);
    return this.exitWithin(boundMs);
  }
}

/** Kills (-9) every process still running: for afterEach, whatever happened in the test. */
export const killAll = async (): Promise<void> => {
  await Promise.all([...running].map((p) => p.kill9()));
};
