// TLS and SASL for Kafka, TLS and AUTH for Redis: the adapters do what the variables say. Checked against
// listeners that record what the clients send (no TLS-enabled broker is needed): a TLS ClientHello or plain
// protocol, the SASL mechanism, user and proof, the Redis AUTH command, and a TLS session verified with the
// configured CA (or refused with another).

import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createKafkaClient } from "../../src/adapters/bus/kafka/client.ts";
import { RedisCache } from "../../src/adapters/cache/redis.ts";
import { loadConfig } from "../../src/config/load.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { BUN, ROOT } from "../helpers/proc.ts";
import { fakeKafka, fakeRedis, type Recorder } from "./fake-servers.ts";
import { makePki, type Pki } from "./pki.ts";

setDefaultTimeout(60_000);

const open: Recorder[] = [];
afterEach(() => {
  for (const r of open.splice(0)) r.stop();
});
const track = <T extends Recorder>(r: T): T => {
  open.push(r);
  return r;
};

let pkiMemo: Pki | undefined;
const pki = async (): Promise<Pki> => {
  pkiMemo ??= await makePki("IP:127.0.0.1");
  return pkiMemo;
};
process.on("exit", () => {
  if (pkiMemo) rmSync(pkiMemo.dir, { recursive: true, force: true });
});

/** Connects a kafkajs admin built by our client factory and gives it a moment; the fake ends the session. */
const connectKafka = async (env: Record<string, string>): Promise<string> => {
  const cfg = loadConfig(env).kafka;
  if (!cfg) throw new Error("no kafka config");
  const admin = createKafkaClient(cfg, silentLogger, {
    connectionTimeout: 2000,
    requestTimeout: 2000,
    retry: { retries: 0, initialRetryTime: 50 },
  }).admin();
  try {
    await admin.connect();
    return "connected";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await admin.disconnect().catch(() => {});
  }
};

const until = async (check: () => boolean, ms = 5000): Promise<boolean> => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await Bun.sleep(20);
  return check();
};

describe("Kafka: KAFKA_SSL, KAFKA_SSL_CA", () => {
  test("without KAFKA_SSL the client speaks plain Kafka (ApiVersions first)", async () => {
    const broker = track(fakeKafka());
    await connectKafka({ KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${broker.port}` });
    expect(broker.sawTlsHello()).toBe(false);
    expect(broker.requests[0]?.apiKey).toBe(18);
  });

  test("KAFKA_SSL=true opens every broker connection with a TLS handshake", async () => {
    const plain = track(fakeKafka());
    await connectKafka({ KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${plain.port}`, KAFKA_SSL: "true" });
    expect(await until(() => plain.sawTlsHello())).toBe(true);
    expect(plain.requests).toEqual([]);
  });

  test("with KAFKA_SSL_CA naming the broker's CA the session is verified and carries the Kafka protocol", async () => {
    const p = await pki();
    const broker = track(fakeKafka({ pki: p }));
    await connectKafka({
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${broker.port}`,
      KAFKA_SSL: "true",
      KAFKA_SSL_CA: p.caCert,
    });
    expect(broker.requests[0]?.apiKey).toBe(18);
  });

  test("with another CA the broker's certificate is refused before any Kafka request", async () => {
    const p = await pki();
    const broker = track(fakeKafka({ pki: p }));
    const outcome = await connectKafka({
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${broker.port}`,
      KAFKA_SSL: "true",
      KAFKA_SSL_CA: p.otherCaCert,
    });
    expect(outcome).not.toBe("connected");
    expect(broker.requests).toEqual([]);
  });
});

describe("Kafka: KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD", () => {
  const PASSWORD = "sasl-password-never-on-the-wire-91c3";

  test.each([
    ["scram-sha-256", "SCRAM-SHA-256"],
    ["scram-sha-512", "SCRAM-SHA-512"],
  ])("%s authenticates as the configured user and never sends the password", async (mechanism, wire) => {
    const broker = track(fakeKafka());
    await connectKafka({
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${broker.port}`,
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: "logproc-user",
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(broker.mechanism()).toBe(wire);
    // SCRAM's client-first message: no channel binding, the user, a fresh nonce.
    expect(broker.authBytes()?.toString()).toMatch(/^n,,n=logproc-user,r=[^,]{16,}$/);
    expect(broker.received().includes(PASSWORD)).toBe(false);
  });

  test("plain sends user and password as they are (so it belongs on a TLS connection only)", async () => {
    const broker = track(fakeKafka());
    await connectKafka({
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${broker.port}`,
      KAFKA_SASL_MECHANISM: "plain",
      KAFKA_SASL_USERNAME: "logproc-user",
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(broker.mechanism()).toBe("PLAIN");
    expect(broker.authBytes()?.toString()).toBe(`\u0000logproc-user\u0000${PASSWORD}`);
  });

  test("SASL over TLS (SASL_SSL): the handshake happens inside the verified session", async () => {
    const p = await pki();
    const broker = track(fakeKafka({ pki: p }));
    await connectKafka({
      KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${broker.port}`,
      KAFKA_SSL: "true",
      KAFKA_SSL_CA: p.caCert,
      KAFKA_SASL_MECHANISM: "scram-sha-512",
      KAFKA_SASL_USERNAME: "logproc-user",
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(broker.mechanism()).toBe("SCRAM-SHA-512");
  });

  test("a mechanism without user and password is refused at startup", () => {
    expect(() =>
      loadConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092", KAFKA_SASL_MECHANISM: "plain" }),
    ).toThrow(/KAFKA_SASL_USERNAME/);
  });
});

/**
 * The credentials of a connection's first command: AUTH [user] password, or HELLO 3 AUTH user password
 * (what ioredis sends to a server it expects to speak RESP3).
 */
const firstAuth = (commands: string[][]): string[] | undefined => {
  const [first] = commands;
  if (!first) return undefined;
  const name = (first[0] ?? "").toLowerCase();
  if (name === "auth") return first.slice(1);
  if (name === "hello") {
    const at = first.findIndex((a) => a.toLowerCase() === "auth");
    return at > 0 ? first.slice(at + 1, at + 3) : undefined;
  }
  return undefined;
};

describe("Redis: REDIS_PASSWORD, REDIS_URL credentials, REDIS_TLS", () => {
  const cacheFor = (env: Record<string, string>) => {
    const cfg = loadConfig(env).redis;
    if (!cfg) throw new Error("no redis config");
    return new RedisCache(cfg, { connectTimeoutMs: 1500, commandTimeoutMs: 1000 });
  };

  test("REDIS_PASSWORD is sent with the connection's first command (AUTH)", async () => {
    const redis = track(fakeRedis());
    const cache = cacheFor({
      REDIS_HOST: "127.0.0.1",
      REDIS_PORT: String(redis.port),
      REDIS_PASSWORD: "redis-pw-1",
    });
    try {
      await cache.start();
      expect((await cache.health()).ok).toBe(true);
      expect(firstAuth(redis.commands)?.at(-1)).toBe("redis-pw-1");
    } finally {
      await cache.stop();
    }
  });

  test("a user and password in REDIS_URL are the credentials of that first command (Redis 6 ACL)", async () => {
    const redis = track(fakeRedis());
    const cache = cacheFor({ REDIS_URL: `redis://logproc:redis-pw-2@127.0.0.1:${redis.port}/0` });
    try {
      await cache.start();
      expect(firstAuth(redis.commands)).toEqual(["logproc", "redis-pw-2"]);
    } finally {
      await cache.stop();
    }
  });

  test.each([
    [
      "REDIS_TLS=true",
      (port: number) => ({ REDIS_HOST: "127.0.0.1", REDIS_PORT: String(port), REDIS_TLS: "true" }),
    ],
    ["a rediss:// URL", (port: number) => ({ REDIS_URL: `rediss://127.0.0.1:${port}` })],
  ])("%s opens the connection with a TLS handshake", async (_what, env) => {
    const redis = track(fakeRedis());
    const cache = cacheFor(env(redis.port));
    try {
      await cache.start();
      expect(await until(() => redis.sawTlsHello())).toBe(true);
      expect(redis.commands).toEqual([]);
    } finally {
      await cache.stop();
    }
  });

  test("REDIS_TLS verifies the server against the trust store; a private CA is added with NODE_EXTRA_CA_CERTS", async () => {
    const p = await pki();
    const redis = track(fakeRedis({ pki: p }));
    // Trust is read at process start, so the client runs in a child process given the CA.
    const script = join(import.meta.dir, "redis-tls-client.ts");
    const child = (extra: Record<string, string>) =>
      Bun.spawn([BUN, script], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", REDIS_PORT: String(redis.port), ...extra },
        stdout: "pipe",
        stderr: "pipe",
      });
    const untrusted = child({});
    expect(await new Response(untrusted.stdout).text()).toContain('"ok":false');
    expect(redis.commands).toEqual([]);
    const trusted = child({ NODE_EXTRA_CA_CERTS: p.caCert });
    expect(await new Response(trusted.stdout).text()).toContain('"ok":true');
    expect(firstAuth(redis.commands)?.at(-1)).toBe("redis-pw-tls");
  });
});
