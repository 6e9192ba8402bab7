// Where the machine's CPU went over a stretch of a run: CPU seconds per group of processes, read from /proc,
// beside the machine's busy time, so a figure can say which part of the pipeline spent what per event.

import { readdirSync, readFileSync } from "node:fs";
import { cpuSeconds, statCpuSeconds } from "./proc.ts";

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** Seconds the machine's CPUs were busy since boot (every /proc/stat field but idle and iowait). */
export const machineBusySeconds = (): number => {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return [user, nice, system, irq, softirq, steal].reduce<number>((n, v) => n + (v ?? 0), 0) / TICKS;
};

/** Processes whose name (comm) or command line matches: PostgreSQL's backends, the Kafka broker's JVM. */
export const pidsWhere = (match: (comm: string, cmdline: string) => boolean): number[] => {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (match(comm, cmdline)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
};

export const postgresPids = (): number[] => pidsWhere((comm) => comm === "postgres");
export const kafkaPids = (): number[] => pidsWhere((comm, cmd) => comm === "java" && cmd.includes("kafka"));

/** Named groups of processes; each is re-listed at every reading (PostgreSQL starts backends as it goes). */
export type CpuGroups = Record<string, () => number[]>;

export interface CpuReading {
  /** CPU seconds per group, this process (the benchmark itself) as "benchmark". */
  groups: Map<string, number>;
  busy: number;
}

export const readCpu = (groups: CpuGroups): CpuReading => {
  const out = new Map<string, number>();
  for (const [name, pids] of Object.entries(groups))
    out.set(
      name,
      pids().reduce((n, pid) => n + (cpuSeconds(pid) || 0), 0),
    );
  const self = process.cpuUsage();
  out.set("benchmark", (self.user + self.system) / 1e6);
  return { groups: out, busy: machineBusySeconds() };
};

/**
 * CPU µs per event of each group between two readings, and the rest of the machine's busy time as "other"
 * (processes outside the groups, the kernel's own work). A backend that exited between the readings is
 * missing from the second: its seconds are lost, never counted twice.
 */
export const cpuPerEvent = (before: CpuReading, after: CpuReading, events: number): Map<string, number> => {
  const out = new Map<string, number>();
  let counted = 0;
  for (const [name, seconds] of after.groups) {
    const spent = Math.max(0, seconds - (before.groups.get(name) ?? 0));
    counted += spent;
    out.set(name, (spent * 1e6) / events);
  }
  out.set("other", (Math.max(0, after.busy - before.busy - counted) * 1e6) / events);
  out.set("machine (busy)", ((after.busy - before.busy) * 1e6) / events);
  return out;
};

/** CPU seconds of a live process by thread name (numbered names summed: "HeapHelper" for all its helpers). */
export const threadCpuSeconds = (pid: number): Map<string, number> => {
  const out = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let name: string;
    try {
      name = readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim().replace(/\d+$/, "");
    } catch {
      continue; // the thread ended meanwhile
    }
    const cpu = statCpuSeconds(`/proc/${pid}/task/${task}/stat`);
    if (!Number.isNaN(cpu)) out.set(name, (out.get(name) ?? 0) + cpu);
  }
  return out;
};
