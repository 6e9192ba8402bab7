// Debian packages a test or benchmark drives (promtool, docker-compose, wrk): installed on first use when missing.

const aptGet = (args: string[]) =>
  Bun.spawnSync(["apt-get", ...args], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });

/** Installs the packages when one of the commands is missing; apt-get update only if the first install fails. */
export const ensureDebianPackages = (packages: readonly string[], commands: readonly string[]): void => {
  if (commands.every((c) => Bun.which(c) !== null)) return;
  let install = aptGet(["install", "-y", "-q", ...packages]);
  if (install.exitCode !== 0) {
    aptGet(["update", "-q"]);
    install = aptGet(["install", "-y", "-q", ...packages]);
  }
  const still = commands.filter((c) => Bun.which(c) === null);
  if (install.exitCode !== 0 || still.length > 0)
    throw new Error(
      `could not install ${packages.join(" ")} (missing: ${still.join(", ")}):\n${install.stderr.toString().slice(-2000)}`,
    );
};
