// POSTGRES_SSL against the local PostgreSQL with a certificate made for the test: verify-full with the right CA
// works (every pool of the store really runs on TLS), with a wrong CA or a wrong host name it fails, require
// skips verification, disable stays plain.
//
// The test turns TLS on in the local cluster: it writes the certificate to a stable directory beside the
// data directory (owned by the server's user, key mode 0600), points ssl_cert_file/ssl_key_file at it with
// ALTER SYSTEM, sets ssl = on and reloads (enough for ssl settings since PostgreSQL 10). Afterwards it puts
// back the previous ALTER SYSTEM values (or resets them) and reloads; the files stay for the next run, which
// regenerates them. It needs to run as root on the database host, as scripts/services.sh does.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import postgres from "postgres";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { loadConfig } from "../../src/config/load.ts";
import { TEST_POSTGRES_URL, uniqueName } from "../helpers/services.ts";
import { makePki, type Pki } from "./pki.ts";

setDefaultTimeout(120_000);

const SETTINGS = ["ssl", "ssl_cert_file", "ssl_key_file"] as const;
const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
const literal = (v: string): string => `'${v.replaceAll("'", "''")}'`;

let pki: Pki;
/** Values our settings had in postgresql.auto.conf before the test (absent = not set there). */
let before: Map<string, string>;

const sslEnabled = async (): Promise<boolean> => {
  // A fresh connection: the reload is asynchronous and a session sees the new value once it is processed.
  const probe = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await probe<{ ssl: string }[]>`select current_setting('ssl') as ssl`;
    return row?.ssl === "on";
  } finally {
    await probe.end({ timeout: 5 });
  }
};

const reload = async (): Promise<void> => {
  await admin`select pg_reload_conf()`;
};

const enableTls = async (): Promise<void> => {
  const [row] = await admin<{ dir: string }[]>`select current_setting('data_directory') as dir`;
  const dataDir = row?.dir ?? "";
  if (!existsSync(dataDir))
    throw new Error(
      `the PostgreSQL data directory ${dataDir} is not on this machine: the TLS test needs the local server`,
    );
  const owner = statSync(dataDir);
  // Beside the clusters (/var/lib/postgresql/logproc-test-tls), not in a temp dir that is deleted later.
  const home = dirname(dirname(dataDir));
  const target = join(home, "logproc-test-tls");
  mkdirSync(target, { recursive: true });
  const cert = join(target, "server.crt");
  const key = join(target, "server.key");
  copyFileSync(pki.serverCert, cert);
  copyFileSync(pki.serverKey, key);
  for (const path of [target, cert, key]) chownSync(path, owner.uid, owner.gid);
  chmodSync(target, 0o700);
  chmodSync(cert, 0o644);
  chmodSync(key, 0o600);

  before = new Map(
    (
      await admin<{ name: string; setting: string }[]>`
        select name, setting from pg_file_settings
        where sourcefile like '%postgresql.auto.conf' and name in ${admin([...SETTINGS])} and applied`
    ).map((r) => [r.name, r.setting]),
  );
  await admin.unsafe(`alter system set ssl_cert_file = ${literal(cert)}`);
  await admin.unsafe(`alter system set ssl_key_file = ${literal(key)}`);
  await admin.unsafe("alter system set ssl = on");
  await reload();
  for (let i = 0; i < 100 && !(await sslEnabled()); i++) await Bun.sleep(100);
  if (!(await sslEnabled())) {
    const errors = await admin`select name, setting, error from pg_file_settings where error is not null`;
    throw new Error(`ssl did not turn on after reload: ${JSON.stringify(errors)}`);
  }
};

const restore = async (): Promise<void> => {
  for (const name of SETTINGS) {
    const previous = before.get(name);
    await admin.unsafe(
      previous === undefined
        ? `alter system reset ${name}`
        : `alter system set ${name} = ${literal(previous)}`,
    );
  }
  await reload();
};

/** The store's config from the environment variables, as a deployment sets them; its connections carry `name`. */
const storeFor = (
  env: Record<string, string>,
  name = uniqueName("logproc_tls"),
  schema = uniqueName("tls"),
): PostgresStore => {
  const config = loadConfig({ POSTGRES_URL: TEST_POSTGRES_URL, ...env }).postgres;
  if (!config) throw new Error("no postgres config");
  return createPostgresStore(config, { schema, healthTimeoutMs: 10_000, applicationName: name });
};

const withHost = (host: string): string => {
  const url = new URL(TEST_POSTGRES_URL);
  url.hostname = host;
  return url.toString();
};

/** TLS state of every connection named `name` or `name-…` (a store's read and write pools). */
const tlsOf = async (name: string): Promise<{ app: string; ssl: boolean }[]> =>
  admin<{ app: string; ssl: boolean }[]>`
    select a.application_name as app, s.ssl from pg_stat_ssl s join pg_stat_activity a using (pid)
    where a.application_name = ${name} or a.application_name like ${`${name}-%`}`;

const failure = async (store: PostgresStore): Promise<string> => {
  try {
    await store.sql`select 1`;
    return "connected";
  } catch (error) {
    return error instanceof Error
      ? `${(error as { code?: string }).code ?? ""} ${error.message}`
      : String(error);
  } finally {
    await store.sql.end({ timeout: 1 }).catch(() => {});
  }
};

const EVENT = {
  id: "tls-event-1",
  level: "INFO" as const,
  message: "over TLS",
  source: "tls",
  timestamp: Date.now(),
  metadata: { secure: true },
};

describe("PostgreSQL over TLS (POSTGRES_SSL, POSTGRES_SSL_CA)", () => {
  beforeAll(async () => {
    pki = await makePki("IP:127.0.0.1");
    await enableTls();
  });
  afterAll(async () => {
    try {
      if (before) await restore();
    } finally {
      await admin.end({ timeout: 5 });
      if (pki) rmSync(pki.dir, { recursive: true, force: true });
    }
  });

  test("verify-full with the CA that signed the server certificate: migrations, writes and reads all on TLS", async () => {
    const name = uniqueName("logproc_tls");
    const schema = uniqueName("tls");
    const store = storeFor({ POSTGRES_SSL: "verify-full", POSTGRES_SSL_CA: pki.caCert }, name, schema);
    try {
      await store.writer.start();
      await store.reader.start();
      const result = await store.writer.write({
        group: "tls",
        topic: "tls",
        events: [{ event: EVENT, partition: 0, offset: "0" }],
        nextOffsets: new Map([[0, "1"]]),
      });
      expect(result.inserted).toBe(1);
      expect(await store.reader.findById(EVENT.id)).toMatchObject({
        message: "over TLS",
        metadata: { secure: true },
      });
      expect((await store.reader.health()).ok).toBe(true);
      const [own] = await store.sql<{ ssl: boolean; version: string }[]>`
        select ssl, version from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(own?.ssl).toBe(true);
      expect(own?.version).toMatch(/^TLSv1\.[23]$/);
      const all = await tlsOf(name);
      // The pool, the read pool and the writer's own connection (the one COPY runs on) showed up, all on TLS.
      expect(new Set(all.map((c) => c.app))).toEqual(new Set([name, `${name}-reader`, `${name}-writer`]));
      expect(all.every((c) => c.ssl)).toBe(true);
    } finally {
      await admin.unsafe(`drop schema if exists ${schema} cascade`).catch(() => {});
      await store.reader.stop();
      await store.writer.stop();
    }
  });

  test("verify-full with an unrelated CA refuses the server", async () => {
    const store = storeFor({ POSTGRES_SSL: "verify-full", POSTGRES_SSL_CA: pki.otherCaCert });
    const health = await store.reader.health();
    expect(health.ok).toBe(false);
    expect(await failure(store)).toMatch(/certificate|self[- ]signed|unable to (get|verify)/i);
  });

  test("verify-full without a CA file uses the system trust store, which does not know the test CA", async () => {
    const store = storeFor({ POSTGRES_SSL: "verify-full" });
    expect(await failure(store)).toMatch(/certificate|self[- ]signed|unable to (get|verify)/i);
  });

  test("verify-full checks the host name: the certificate names 127.0.0.1, not localhost", async () => {
    const plain = postgres(withHost("localhost"), { max: 1, connect_timeout: 3, onnotice: () => {} });
    const reachable = await plain`select 1`.then(
      () => true,
      () => false,
    );
    await plain.end({ timeout: 1 });
    if (!reachable) {
      console.warn("localhost does not reach the server here (IPv6 first?): host-name check not exercised");
      return;
    }
    const config = loadConfig({
      POSTGRES_URL: withHost("localhost"),
      POSTGRES_SSL: "verify-full",
      POSTGRES_SSL_CA: pki.caCert,
    }).postgres;
    const store = createPostgresStore(config as NonNullable<typeof config>, { schema: uniqueName("tls") });
    expect(await failure(store)).toMatch(/altname|host ?name|does not match|ERR_TLS_CERT_ALTNAME_INVALID/i);
  });

  test("require encrypts without verifying (any CA setting is ignored)", async () => {
    const store = storeFor({ POSTGRES_SSL: "require", POSTGRES_SSL_CA: pki.otherCaCert });
    try {
      const [own] = await store.sql<
        { ssl: boolean }[]
      >`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(own?.ssl).toBe(true);
    } finally {
      await store.sql.end({ timeout: 1 });
    }
  });

  test("disable (the default) stays in plain text even when the server offers TLS", async () => {
    const store = storeFor({});
    try {
      const [own] = await store.sql<
        { ssl: boolean }[]
      >`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
      expect(own?.ssl).toBe(false);
    } finally {
      await store.sql.end({ timeout: 1 });
    }
  });
});
