// Makes sure the Debian packages the deploy tests drive (promtool, prometheus, docker-compose) are installed.

const PACKAGES = ["docker-compose", "prometheus"];
const COMMANDS = ["promtool", "prometheus", "docker-compose"];

let ensured = false;

const aptGet = (args: string[]) =>
  Bun.spawnSync(["apt-get", ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });

/** Installs the packages when one of their commands is missing; apt-get update only if the first install fails. */
export const ensureTools = (): void => {
  if (ensured) return;
  const missing = COMMANDS.filter((c) => Bun.which(c) === null);
  if (missing.length > 0) {
    let install = aptGet(["install", "-y", "-q", ...PACKAGES]);
    if (install.exitCode !== 0) {
      aptGet(["update", "-q"]);
      install = aptGet(["install", "-y", "-q", ...PACKAGES]);
    }
    const still = COMMANDS.filter((c) => Bun.which(c) === null);
    if (install.exitCode !== 0 || still.length > 0)
      throw new Error(
        `could not install ${PACKAGES.join(" ")} (missing: ${still.join(", ")}):\n${install.stderr.toString().slice(-2000)}`,
      );
  }
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
