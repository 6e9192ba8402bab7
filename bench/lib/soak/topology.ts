// The soak's processes: one `--role all` (embedded) or producer, consumer and gateway (split), each restarted
// on its own ports so the clients find it again, and waited for until its health says UP.

import { LogprocProcess, waitUntil } from "../../../test/helpers/faults-process.ts";
import { freePorts, type Ports, portEnv } from "../../../test/helpers/proc.ts";

export type RoleName = "all" | "producer" | "consumer" | "gateway";

const health = (role: RoleName, ports: Ports): string[] => {
  const producer = `http://127.0.0.1:${ports.producer}/producer/api/logs/health`;
  const gateway = `http://127.0.0.1:${ports.gateway}/gateway/api/query/health`;
  const consumer = `http://127.0.0.1:${ports.consumer}/actuator/health`;
  if (role === "all") return [producer, gateway];
  return [role === "producer" ? producer : role === "gateway" ? gateway : consumer];
};

const ok = async (url: string): Promise<boolean> =>
  (await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined))?.status === 200;

export class Topology {
  private readonly procs = new Map<RoleName, LogprocProcess>();
  private readonly ports = new Map<RoleName, Ports>();
  /** Exit codes of SIGTERM stops that were not 0 (a clean stop must exit 0). */
  readonly uncleanStops: string[] = [];

  constructor(
    readonly roles: RoleName[],
    private readonly env: Record<string, string>,
  ) {
    for (const r of roles) this.ports.set(r, freePorts());
  }

  portsOf(role: RoleName): Ports {
    const p = this.ports.get(role);
    if (!p) throw new Error(`no role ${role} in this soak`);
    return p;
  }

  /** The producer's port: the only one the ingest clients use. */
  get producerPort(): number {
    return this.portsOf(this.roles.includes("all") ? "all" : "producer").producer;
  }

  get gatewayPort(): number {
    return this.portsOf(this.roles.includes("all") ? "all" : "gateway").gateway;
  }

  tails(): string {
    return [...this.procs.values()].map((p) => p.tail(15)).join("\n");
  }

  spawn(role: RoleName): LogprocProcess {
    const ports = this.portsOf(role);
    const p = new LogprocProcess(role, ports, ["--role", role], { ...portEnv(ports), ...this.env });
    this.procs.set(role, p);
    return p;
  }

  async healthy(role: RoleName, timeoutMs = 120_000): Promise<void> {
    const urls = health(role, this.portsOf(role));
    await waitUntil(
      `${role} healthy`,
      async () => (await Promise.all(urls.map(ok))).every(Boolean),
      timeoutMs,
      200,
      () => this.procs.get(role)?.tail(30) ?? "",
    );
  }

  async startAll(): Promise<void> {
    for (const r of this.roles) this.spawn(r);
    for (const r of this.roles) await this.healthy(r);
  }

  /** Stops the role with the signal (a SIGTERM that takes over 30 s ends in kill -9), and waits for the exit. */
  async stopRole(role: RoleName, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const p = this.procs.get(role);
    if (!p?.alive) return;
    if (signal === "SIGKILL") return p.kill9();
    const exit = await p.signal("SIGTERM", 30_000);
    if (exit?.code !== 0) {
      this.uncleanStops.push(`${role}: ${exit ? `exit ${exit.code}` : "still running 30 s after SIGTERM"}`);
      await p.kill9();
    }
  }

  async stopAll(): Promise<void> {
    for (const r of [...this.roles].reverse()) await this.stopRole(r, "SIGTERM");
  }
}
