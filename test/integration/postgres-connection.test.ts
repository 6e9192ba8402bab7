// PostgreSQL connections: credentials and TLS mode from the config, a separate read URL, health with a bound.

import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sslOption } from "../../src/adapters/store/postgres/connect.ts";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { TEST_POSTGRES_URL, testPostgresConfig, uniqueName } from "../helpers/services.ts";

// bunfig.toml's [test] timeout is not applied by Bun 1.4.5; these suites talk to a real PostgreSQL.
setDefaultTimeout(120_000);

const cfg = testPostgresConfig(2);

/** The same server under another URL: a stand-in for a read replica. */
const otherUrl = (() => {
  const url = new URL(TEST_POSTGRES_URL);
  url.hostname = url.hostname === "127.0.0.1" ? "localhost" : "127.0.0.1";
  return url.toString();
})();

describe("postgres connections", () => {
  const schema = uniqueName("t");
  let primary: PostgresStore;
  beforeAll(async () => {
    primary = createPostgresStore(cfg, { schema });
    await primary.writer.start();
  });
  afterAll(async () => {
    await primary.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await primary.writer.stop();
  });

  it("reads through the read URL what the writer stored", async () => {
    const replica = createPostgresStore(
      { ...cfg, readUrl: otherUrl },
      { schema, applicationName: `${schema}_r` },
    );
    try {
      await replica.reader.start();
      const now = Date.now();
      const event = {
        id: "r1",
        level: "INFO" as const,
        message: "via replica",
        source: "s",
        timestamp: now,
        metadata: null,
      };
      await primary.writer.write({
        group: "g",
        topic: "logs",
        events: [{ event, partition: 0, offset: "0" }],
        nextOffsets: new Map(),
      });
      expect((await replica.reader.findById("r1"))?.message).toBe("via replica");
      // The answer came over the replica store's own read pool, opened on the read URL.
      const [row] = await primary.sql<{ n: string }[]>`
        select count(*) as n from pg_stat_activity where application_name = ${`${schema}_r-reader`}`;
      expect(Number(row?.n)).toBeGreaterThan(0);
    } finally {
      await replica.reader.stop();
    }
  });

  it("takes the user name from the config over the URL's", async () => {
    const url = new URL(TEST_POSTGRES_URL);
    const user = decodeURIComponent(url.username) || "postgres";
    url.username = "no_such_role";
    const store = createPostgresStore(
      { ...cfg, url: url.toString(), readUrl: url.toString(), username: user },
      { schema },
    );
    try {
      expect(await store.writer.health()).toEqual({ ok: true, detail: "postgres" });
    } finally {
      await store.writer.stop();
    }
  });

  it("reports unhealthy, within its bound, when the server cannot be reached", async () => {
    const down = "postgres://postgres@127.0.0.1:1/logproc";
    const store = createPostgresStore(
      { ...cfg, url: down, readUrl: down },
      { schema, healthTimeoutMs: 1500 },
    );
    try {
      const health = await store.reader.health();
      expect(health.ok).toBe(false);
      expect(health.detail).toBeString();
    } finally {
      await store.reader.stop();
    }
  });

  it("asks for TLS when the config requires it", async () => {
    const [ssl] = await primary.sql<{ ssl: string }[]>`show ssl`;
    const store = createPostgresStore({ ...cfg, ssl: "require" }, { schema, healthTimeoutMs: 5000 });
    try {
      const health = await store.writer.health();
      // A server without TLS refuses the session; one with TLS accepts it.
      expect(health.ok).toBe(ssl?.ssl === "on");
    } finally {
      await store.writer.stop();
    }
  });

  it("maps the TLS modes to the driver's options, with the CA file for verify-full", () => {
    const dir = mkdtempSync(join(tmpdir(), "logproc-ca-"));
    const ca = join(dir, "ca.pem");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    expect(sslOption({ ssl: "disable", sslCa: undefined })).toBe(false);
    expect(sslOption({ ssl: "require", sslCa: undefined })).toBe("require");
    expect(sslOption({ ssl: "verify-full", sslCa: undefined })).toEqual({ rejectUnauthorized: true });
    expect(sslOption({ ssl: "verify-full", sslCa: ca })).toEqual({
      rejectUnauthorized: true,
      ca: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    });
  });
});
