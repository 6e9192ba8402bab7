// Makes sure the Debian packages the deploy tests drive (promtool, prometheus, docker-compose) are installed.

import { ensureDebianPackages } from "../../scripts/debian-packages.ts";

const PACKAGES = ["docker-compose", "prometheus"];
const COMMANDS = ["promtool", "prometheus", "docker-compose"];

let ensured = false;

/** Installs the packages when one of their commands is missing. */
export const ensureTools = (): void => {
  if (ensured) return;
  ensureDebianPackages(PACKAGES, COMMANDS);
  ensured = true;
};

/** Runs a command to completion and returns its exit code and output. */
export const run = (cmd: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}) => {
  const done = Bun.spawnSync(cmd, {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    env: opts.env ?? process.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: done.exitCode, stdout: done.stdout.toString(), stderr: done.stderr.toString() };
};
