// The Dockerfile builds the binary with the pinned Bun in one stage and runs it as a non-root user in a
// small runtime stage; its health check script works against real roles; .dockerignore keeps what the build needs.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { DEPLOYED_RUNTIME_ENV } from "../../scripts/runtime-env.ts";
import { type Embedded, freePort, startEmbedded } from "./embedded.ts";
import { run } from "./ensure-tools.ts";
import { REPO, ROLES, readText } from "./roles.ts";

interface Instruction {
  op: string;
  args: string;
  heredoc?: string;
}

/** Splits a Dockerfile into instructions: joins continuation lines, collects heredoc bodies, drops comments. */
const parseDockerfile = (text: string): Instruction[] => {
  const lines = text.split("\n");
  const out: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? "";
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    while (line.endsWith("\\") && i + 1 < lines.length)
      line = `${line.slice(0, -1)} ${(lines[++i] ?? "").trim()}`;
    const [, op = "", args = ""] = /^\s*(\S+)\s*(.*)$/.exec(line) ?? [];
    const marker = /<<-?'?"?([A-Za-z_]+)'?"?/.exec(args)?.[1];
    const instruction: Instruction = { op: op.toUpperCase(), args };
    if (marker) {
      const body: string[] = [];
      while (i + 1 < lines.length && lines[i + 1] !== marker) body.push(lines[++i] ?? "");
      i++;
      instruction.heredoc = `${body.join("\n")}\n`;
    }
    out.push(instruction);
  }
  return out;
};

const stages = (instructions: Instruction[]): Instruction[][] => {
  const result: Instruction[][] = [];
  for (const ins of instructions) {
    if (ins.op === "FROM") result.push([]);
    result.at(-1)?.push(ins);
  }
  return result;
};

let dockerfile: Instruction[];
let build: Instruction[];
let runtime: Instruction[];
let args: Record<string, string>;

beforeAll(async () => {
  dockerfile = parseDockerfile(await readText("Dockerfile"));
  const all = stages(dockerfile);
  build = all[0] ?? [];
  runtime = all.at(-1) ?? [];
  args = Object.fromEntries(
    dockerfile
      .filter((i) => i.op === "ARG" && i.args.includes("="))
      .map((i) => i.args.split("=", 2) as [string, string]),
  );
});

const argsOf = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op).map((i) => i.args);

describe("Dockerfile", () => {
  test("declares the BuildKit syntax its heredoc, cache mount and --chmod need", async () => {
    expect((await readText("Dockerfile")).split("\n")[0]).toMatch(/^# syntax=docker\/dockerfile:1/);
  });

  test("builds in one stage with npm ci and npm run build, and runs in another", () => {
    expect(stages(dockerfile).length).toBeGreaterThanOrEqual(2);
    expect(argsOf(build, "FROM")[0]).toMatch(/ AS build$/);
    const runs = argsOf(build, "RUN").join("\n");
    expect(runs).toContain("npm ci");
    expect(runs).toContain("npm run build");
  });

  test("copies the file that npm run build writes", async () => {
    const pkg = JSON.parse(await readText("package.json")) as { scripts: { build: string } };
    const outfile = /--outfile\s+(\S+)/.exec(pkg.scripts.build)?.[1];
    expect(outfile).toBe("dist/logproc");
    const workdir = argsOf(build, "WORKDIR").at(-1);
    const copy = argsOf(runtime, "COPY").find((a) => a.startsWith("--from=build"));
    expect(copy).toBe(`--from=build ${workdir}/${outfile} /usr/local/bin/logproc`);
  });

  test("runs the binary as a non-root user, the role chosen by --role or ROLE", () => {
    const user = argsOf(runtime, "USER").at(-1) ?? "root";
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(argsOf(runtime, "ENTRYPOINT")).toEqual(['["/usr/local/bin/logproc"]']);
    // A CMD with --role would override ROLE from the environment, since the flag wins.
    expect(argsOf(runtime, "CMD").join(" ")).not.toContain("--role");
    expect(argsOf(runtime, "ENV").join(" ")).not.toMatch(/\bROLE=/);
  });

  test("listens on every interface of the container (HOST explicit: a published port never reaches loopback)", () => {
    expect(argsOf(runtime, "ENV").join(" ")).toMatch(/\bHOST=0\.0\.0\.0\b/);
  });

  test("sets an allocator purge delay the runtime reads (mimalloc's purge_delay)", async () => {
    const env = argsOf(runtime, "ENV").join(" ");
    const delay = /\bMIMALLOC_PURGE_DELAY=(\d+)\b/.exec(env)?.[1];
    // The tests and benchmarks start logproc with the same setting (scripts/runtime-env.ts).
    expect(delay).toBe(DEPLOYED_RUNTIME_ENV.MIMALLOC_PURGE_DELAY);
    // The runtime's allocator lists its options when verbose: a renamed option would not show the value.
    const proc = Bun.spawn([process.execPath, "-e", ""], {
      env: { PATH: process.env.PATH ?? "", MIMALLOC_VERBOSE: "1", MIMALLOC_PURGE_DELAY: String(delay) },
      stdout: "ignore",
      stderr: "pipe",
    });
    const stderr = await new Response(proc.stderr).text();
    await proc.exited;
    expect(stderr).toContain(`option 'purge_delay': ${delay}`);
  });

  test("exposes the three role ports", () => {
    const exposed = argsOf(runtime, "EXPOSE").join(" ").split(/\s+/).map(Number);
    for (const r of ROLES) expect(exposed).toContain(r.defaultPort);
  });

  test("runs the binary on the Debian release it was built on, so glibc matches", () => {
    const release = (image: string | undefined) => /(bookworm|bullseye|trixie)/.exec(image ?? "")?.[1];
    expect(release(args.NODE_IMAGE)).toBeDefined();
    expect(release(args.RUNTIME_IMAGE)).toBe(release(args.NODE_IMAGE));
  });
});

describe("the image's health check script", () => {
  let app: Embedded;
  let script: string;
  let sick: ReturnType<typeof Bun.serve>;

  beforeAll(async () => {
    const heredoc = runtime.find((i) => i.op === "COPY" && i.args.includes("logproc-healthcheck"))?.heredoc;
    if (!heredoc) throw new Error("no logproc-healthcheck heredoc in the runtime stage");
    script = join(mkdtempSync(join(tmpdir(), "logproc-healthcheck-")), "logproc-healthcheck");
    writeFileSync(script, heredoc, { mode: 0o755 });
    app = await startEmbedded();
    sick = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("down", { status: 503 }) });
  }, 60_000);

  afterAll(async () => {
    sick?.stop(true);
    await app?.stop();
  });

  /** Async: the unhealthy server lives in this process, so a blocking spawn would keep it from answering. */
  const check = async (ports: Record<"PRODUCER_PORT" | "CONSUMER_PORT" | "GATEWAY_PORT", number>) => {
    const proc = Bun.spawn(["sh", script], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
    });
    const code = await proc.exited;
    return { code, stderr: await new Response(proc.stderr).text() };
  };

  test("is valid sh", () => {
    expect(run(["sh", "-n", script]).code).toBe(0);
  });

  const noCurl = Bun.which("curl") === null;

  test.skipIf(noCurl)("passes when every role answers healthy (--role all)", async () => {
    const all = await check({
      PRODUCER_PORT: app.ports.producer,
      CONSUMER_PORT: app.ports.consumer,
      GATEWAY_PORT: app.ports.gateway,
    });
    expect(all.code).toBe(0);
  });

  test.skipIf(noCurl)("passes for a single role when the other ports are closed", async () => {
    const closed = freePort();
    expect(
      (await check({ PRODUCER_PORT: closed, CONSUMER_PORT: app.ports.consumer, GATEWAY_PORT: closed })).code,
    ).toBe(0);
  });

  test.skipIf(noCurl)("fails when a role answers unhealthy", async () => {
    const answer = await check({
      PRODUCER_PORT: app.ports.producer,
      CONSUMER_PORT: app.ports.consumer,
      GATEWAY_PORT: sick.port ?? 0,
    });
    expect(answer.code).not.toBe(0);
    expect(answer.stderr).toContain("503");
  });

  test.skipIf(noCurl)("fails when nothing answers", async () => {
    const closed = freePort();
    expect(
      (await check({ PRODUCER_PORT: closed, CONSUMER_PORT: closed, GATEWAY_PORT: closed })).code,
    ).not.toBe(0);
  });
});

describe(".dockerignore", () => {
  const patterns = async () =>
    (await readText(".dockerignore"))
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#") && !l.startsWith("!"));

  /** Whether a pattern excludes the path or a directory above it. */
  const excluded = (list: string[], path: string): boolean => {
    const parts = path.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    return list.some((p) => prefixes.some((prefix) => new Bun.Glob(p).match(prefix)));
  };

  test("keeps what npm ci and npm run build read", async () => {
    const list = await patterns();
    for (const needed of [
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "bunfig.toml",
      "src/main.ts",
      "config/migrations/001_init.sql",
    ])
      expect({ needed, excluded: excluded(list, needed) }).toEqual({ needed, excluded: false });
  });

  test("keeps every file the bundler reads for the binary (node_modules comes from npm ci)", async () => {
    const list = await patterns();
    const out = mkdtempSync(join(tmpdir(), "logproc-bundle-"));
    const result = await Bun.build({
      entrypoints: [join(REPO, "src", "main.ts")],
      target: "bun",
      outdir: out,
      metafile: true,
    });
    rmSync(out, { recursive: true, force: true });
    expect(result.success).toBe(true);
    const inputs = Object.keys(result.metafile?.inputs ?? {}).filter((p) => !p.includes("node_modules/"));
    expect(inputs).toContain("src/main.ts");
    expect(inputs.filter((p) => excluded(list, relative(REPO, resolve(REPO, p))))).toEqual([]);
  }, 30_000);

  test("leaves out dependencies, build output, local data and secrets", async () => {
    const list = await patterns();
    for (const dropped of [
      "node_modules/hono/package.json",
      "dist/logproc",
      ".git/HEAD",
      "data/logproc.sqlite",
      ".env",
      "config/.env",
    ])
      expect({ dropped, excluded: excluded(list, dropped) }).toEqual({ dropped, excluded: true });
  });
});
