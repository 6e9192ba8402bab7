// loadConfig: defaults, the legacy JDBC URL form, and one message naming every bad variable.

import { describe, expect, it } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config/load.ts";

const problemsOf = (env: Record<string, string>, role?: string): string[] => {
  try {
    loadConfig(env, role);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("loadConfig", () => {
  it("runs embedded with the documented defaults when nothing is set", () => {
    const c = loadConfig({});
    expect(c.role).toBe("all");
    expect(c.ports).toEqual({ gateway: 8080, producer: 8081, consumer: 8082 });
    expect(c.postgres).toBeUndefined();
    expect(c.kafka).toBeUndefined();
    expect(c.redis).toBeUndefined();
    expect(c.dataDir).toBe("./data");
    expect(c.metrics.enabled).toBe(true);
    expect(Object.isFrozen(c) && Object.isFrozen(c.ports)).toBe(true);
  });

  it("accepts the JDBC URL of the design it replaces", () => {
    const c = loadConfig({
      POSTGRES_URL: "jdbc:postgresql://db.internal:5433/logs",
      POSTGRES_USERNAME: "app",
    });
    expect(c.postgres?.url).toBe("postgres://db.internal:5433/logs");
    expect(c.postgres?.username).toBe("app");
    expect(c.postgres?.readUrl).toBe(c.postgres?.url);
  });

  it("keeps Kafka topic and group defaults of the old design", () => {
    const c = loadConfig({ KAFKA_BOOTSTRAP_SERVERS: "k1:9092, k2:9092" });
    expect(c.kafka?.brokers).toEqual(["k1:9092", "k2:9092"]);
    expect(c.kafka?.topic).toBe("log-events");
    expect(c.kafka?.group).toBe("log-consumer-group");
  });

  it("gives a killed consumer's partitions away after 10 s by default, and refuses a session the broker would", () => {
    expect(loadConfig({ KAFKA_BOOTSTRAP_SERVERS: "k:9092" }).kafka?.sessionTimeoutMs).toBe(10_000);
    const c = loadConfig({ KAFKA_BOOTSTRAP_SERVERS: "k:9092", KAFKA_SESSION_TIMEOUT_MS: "45000" });
    expect(c.kafka?.sessionTimeoutMs).toBe(45_000);
    expect(problemsOf({ KAFKA_SESSION_TIMEOUT_MS: "1000" })[0]).toStartWith("KAFKA_SESSION_TIMEOUT_MS:");
  });

  it("compresses record batches with zstd by default, and names the choices when given another", () => {
    expect(loadConfig({ KAFKA_BOOTSTRAP_SERVERS: "k:9092" }).kafka?.compression).toBe("zstd");
    expect(
      loadConfig({ KAFKA_BOOTSTRAP_SERVERS: "k:9092", KAFKA_COMPRESSION: "none" }).kafka?.compression,
    ).toBe("none");
    expect(problemsOf({ KAFKA_COMPRESSION: "lz4" })).toEqual([
      `KAFKA_COMPRESSION: must be one of zstd, gzip, none (got "lz4")`,
    ]);
  });

  it("prefers REDIS_URL and otherwise builds from host and port", () => {
    expect(loadConfig({ REDIS_HOST: "cache", REDIS_PORT: "6380" }).redis).toMatchObject({
      host: "cache",
      port: 6380,
    });
    expect(loadConfig({ REDIS_URL: "redis://cache:6379" }).redis?.url).toBe("redis://cache:6379");
  });

  it("names every bad variable at once", () => {
    const problems = problemsOf({
      GATEWAY_PORT: "abc",
      POSTGRES_URL: "nonsense",
      PROMETHEUS_ENABLED: "maybe",
    });
    expect(problems.some((p) => p.startsWith("GATEWAY_PORT:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("POSTGRES_URL:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("PROMETHEUS_ENABLED:"))).toBe(true);
  });

  it("rejects an unknown role from the flag and names the flag", () => {
    expect(problemsOf({}, "everything")[0]).toStartWith("--role:");
  });

  it("never echoes a secret back in an error", () => {
    const problems = problemsOf({ POSTGRES_URL: "postgres://u:hunter2@", REDIS_URL: "http://:hunter2@x" });
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("rejects ports out of range and broker lists without ports", () => {
    expect(problemsOf({ PRODUCER_PORT: "70000" })[0]).toStartWith("PRODUCER_PORT:");
    expect(problemsOf({ KAFKA_BOOTSTRAP_SERVERS: "localhost" })[0]).toStartWith("KAFKA_BOOTSTRAP_SERVERS:");
  });
});
