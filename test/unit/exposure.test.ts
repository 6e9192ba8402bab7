// Safe defaults in the configuration: the bind address follows the keys, METRICS_REQUIRE_KEY needs keys,
// CORS_ORIGINS is * or a list of origins.

import { describe, expect, it } from "bun:test";
import { isLoopback } from "../../src/config/exposure.ts";
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

const KEYS = { INGEST_API_KEYS: "ik", QUERY_API_KEYS: "qk" };

describe("the bind address", () => {
  it("is loopback when nothing is configured, and every role is open", () => {
    const c = loadConfig({});
    expect(c.host).toBe("127.0.0.1");
    expect(c.openRoles).toEqual(["producer", "consumer", "gateway"]);
  });

  it("is loopback while any role this process runs has no key", () => {
    expect(loadConfig({ QUERY_API_KEYS: "qk" }).host).toBe("127.0.0.1");
    expect(loadConfig({ QUERY_API_KEYS: "qk" }).openRoles).toEqual(["producer"]);
    expect(loadConfig({ INGEST_API_KEYS: "ik" }, "gateway").host).toBe("127.0.0.1");
  });

  it("is every interface once every role run checks keys", () => {
    expect(loadConfig(KEYS).host).toBe("0.0.0.0");
    expect(loadConfig(KEYS).openRoles).toEqual([]);
    expect(loadConfig({ INGEST_API_KEYS: "ik" }, "producer").host).toBe("0.0.0.0");
    expect(loadConfig({ QUERY_API_KEYS: "qk" }, "gateway").host).toBe("0.0.0.0");
    // The consumer serves health and metrics only: either list guards its metrics.
    expect(loadConfig({ QUERY_API_KEYS: "qk" }, "consumer").host).toBe("0.0.0.0");
  });

  it("is HOST whenever HOST is set, keys or not", () => {
    expect(loadConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(loadConfig({ HOST: "127.0.0.1", ...KEYS }).host).toBe("127.0.0.1");
    expect(loadConfig({ HOST: " " }).host).toBe("127.0.0.1");
  });

  it("tells loopback addresses from the others", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"])
      expect(isLoopback(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.com", "128.0.0.1"])
      expect(isLoopback(h)).toBe(false);
  });
});

describe("METRICS_REQUIRE_KEY", () => {
  it("without any key is a configuration error naming what to set", () => {
    const [problem] = problemsOf({ METRICS_REQUIRE_KEY: "true" });
    expect(problem).toStartWith("METRICS_REQUIRE_KEY:");
    expect(problem).toContain("INGEST_API_KEYS");
    expect(problem).toContain("QUERY_API_KEYS");
  });

  it("needs the keys of every role the process runs", () => {
    expect(problemsOf({ METRICS_REQUIRE_KEY: "true", QUERY_API_KEYS: "qk" })[0]).toContain("producer");
    expect(problemsOf({ METRICS_REQUIRE_KEY: "true", QUERY_API_KEYS: "qk" }, "gateway")).toEqual([]);
    expect(problemsOf({ METRICS_REQUIRE_KEY: "true", INGEST_API_KEYS: "ik" }, "gateway")[0]).toContain(
      "QUERY_API_KEYS (gateway)",
    );
    expect(problemsOf({ METRICS_REQUIRE_KEY: "true", ...KEYS })).toEqual([]);
    expect(problemsOf({ METRICS_REQUIRE_KEY: "false" })).toEqual([]);
  });
});

describe("CORS_ORIGINS", () => {
  it("defaults to any origin, as the replaced design did", () => {
    expect(loadConfig({}).query.corsOrigins).toEqual(["*"]);
  });

  it("takes a list of origins, and empty for none", () => {
    expect(
      loadConfig({ CORS_ORIGINS: "https://a.example, http://localhost:5173" }).query.corsOrigins,
    ).toEqual(["https://a.example", "http://localhost:5173"]);
    expect(loadConfig({ CORS_ORIGINS: "" }).query.corsOrigins).toEqual([]);
  });

  it("rejects what is not an origin", () => {
    for (const bad of ["a.example", "https://a.example/path", "ftp://a.example"])
      expect(problemsOf({ CORS_ORIGINS: bad })[0]).toStartWith("CORS_ORIGINS:");
  });
});
