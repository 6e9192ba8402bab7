// The soak's own PostgreSQL cluster, Kafka broker and Redis, on free ports: it stops them for its outages,
// never the machine's shared ones. Each is run by scripts/services.sh with its port/cluster/state overrides.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { services } from "../../../test/helpers/faults-process.ts";
import { freePort } from "../proc.ts";

export type Service = "kafka" | "postgres" | "redis";

const quiet = async (cmd: string[]): Promise<void> => {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${(out + err).slice(-2000)}`);
};

const pgVersion = async (): Promise<string> => {
  const proc = Bun.spawn(["bash", "-c", "ls /etc/postgresql | sort -V | tail -n1"], { stdout: "pipe" });
  const v = (await new Response(proc.stdout).text()).trim();
  if (!/^\d+$/.test(v)) throw new Error("no PostgreSQL installation under /etc/postgresql");
  return v;
};

const live = new Set<PrivateServices>();
const PREFIX = "logproc-soak-services-";

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Removes what an earlier run left when it was killed before its teardown: its state directory names its
 * process, and holds the overrides that reach its broker, Redis and cluster.
 */
const sweepStale = async (): Promise<void> => {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^logproc-soak-services-(\d+)-/.exec(name)?.[1]);
    const dir = join(tmpdir(), name);
    if (!pid || alive(pid) || !existsSync(join(dir, "env.json"))) continue;
    const { env, version, cluster } = JSON.parse(readFileSync(join(dir, "env.json"), "utf8")) as {
      env: Record<string, string>;
      version: string;
      cluster: string;
    };
    await services("stop", "kafka", env).catch(() => {});
    await services("stop", "redis", env).catch(() => {});
    await quiet(["pg_dropcluster", version, cluster, "--stop"]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Tears down every private service set still up (for a test's afterAll, whatever happened in the test). */
export const downAll = async (): Promise<void> => {
  for (const s of [...live]) await s.down();
};

export class PrivateServices {
  readonly env: Record<string, string>;
  readonly pgPort = freePort();
  readonly kafkaPort = freePort();
  readonly redisPort = freePort();
  private readonly state = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  private version = "";
  private readonly cluster: string;
  private readonly started = new Set<Service>();

  constructor(tag: string) {
    this.cluster = `soak_${tag}`;
    this.env = {
      LOGPROC_STATE: this.state,
      LOGPROC_PG_CLUSTER: this.cluster,
      LOGPROC_PG_PORT: String(this.pgPort),
      LOGPROC_KAFKA_PORT: String(this.kafkaPort),
      LOGPROC_KAFKA_CONTROLLER_PORT: String(freePort()),
      LOGPROC_REDIS_PORT: String(this.redisPort),
    };
  }

  get kafkaBrokers(): string {
    return `127.0.0.1:${this.kafkaPort}`;
  }

  pgUrl(db = "postgres"): string {
    return `postgres://postgres@127.0.0.1:${this.pgPort}/${db}`;
  }

  /** Creates the PostgreSQL cluster (trust on loopback, like the shared one), then starts all three. */
  async up(): Promise<void> {
    await sweepStale();
    live.add(this);
    this.version = await pgVersion();
    writeFileSync(
      join(this.state, "env.json"),
      JSON.stringify({ env: this.env, version: this.version, cluster: this.cluster }),
    );
    await quiet(["pg_createcluster", this.version, this.cluster, "-p", String(this.pgPort)]);
    this.started.add("postgres");
    writeFileSync(
      `/etc/postgresql/${this.version}/${this.cluster}/pg_hba.conf`,
      "local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n",
    );
    // Kafka (a JVM) takes longest: started alongside the others.
    await Promise.all((["postgres", "redis", "kafka"] as const).map((s) => this.start(s)));
  }

  async start(service: Service): Promise<void> {
    this.started.add(service);
    await services("start", service, this.env);
  }

  async stop(service: Service): Promise<void> {
    await services("stop", service, this.env);
  }

  async createDatabase(name: string): Promise<string> {
    const sql = postgres(this.pgUrl(), { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(`create database "${name}"`);
    } finally {
      await sql.end();
    }
    return this.pgUrl(name);
  }

  /** Stops what it started and removes the cluster and the broker's files; never throws. */
  async down(): Promise<void> {
    live.delete(this);
    const warn = (what: string) => (error: unknown) => console.warn(`soak: ${what}: ${String(error)}`);
    if (this.started.has("kafka")) await this.stop("kafka").catch(warn("stopping kafka"));
    if (this.started.has("redis")) await this.stop("redis").catch(warn("stopping redis"));
    if (this.started.has("postgres"))
      await quiet(["pg_dropcluster", this.version, this.cluster, "--stop"]).catch(warn("dropping cluster"));
    rmSync(this.state, { recursive: true, force: true });
  }
}
