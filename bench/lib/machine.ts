// The machine a result came from: cores, memory, CPU model, kernel, Bun version, date.

import { cpus, release, totalmem } from "node:os";

export interface Machine {
  nproc: number;
  memGiB: number;
  cpu: string;
  kernel: string;
  bun: string;
  date: string;
}

export const machine = (): Machine => ({
  nproc: cpus().length,
  memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  cpu: cpus()[0]?.model ?? "unknown",
  kernel: release(),
  bun: Bun.version,
  date: new Date().toISOString(),
});
