// The zod schema of the environment: parsed once at startup into a frozen Config.

import { z } from "zod";
import { DEFAULT_RECORD_EVENTS } from "../domain/wire.ts";

const ROLES = ["producer", "consumer", "gateway", "all"] as const;
export type Role = (typeof ROLES)[number];

const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off"], { error: "must be true or false" })
    .default(def ? "true" : "false")
    .transform((v) => ["true", "1", "yes", "on"].includes(v));

const port = (def: number) =>
  z.coerce
    .number({ error: "must be a port number" })
    .int("must be a whole number")
    .min(0, "must be 0-65535")
    .max(65535, "must be 0-65535")
    .default(def);

const count = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(def);

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const keyList = optionalText.transform((v) =>
  v === undefined
    ? []
    : v
        .split(",")
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
);

/** Accepts postgres:// URLs and the JDBC form of the design we replace. */
export const postgresUrl = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const text = v.startsWith("jdbc:") ? v.slice(5) : v;
  let url: URL;
  try {
    url = new URL(text.replace(/^postgresql:/, "postgres:"));
  } catch {
    ctx.addIssue({
      code: "custom",
      message: "must be postgres://host:port/db or jdbc:postgresql://host:port/db",
    });
    return z.NEVER;
  }
  if (url.protocol !== "postgres:" || url.hostname === "") {
    ctx.addIssue({
      code: "custom",
      message: "must be postgres://host:port/db or jdbc:postgresql://host:port/db",
    });
    return z.NEVER;
  }
  return url.toString();
});

const brokers = optionalText.transform((v, ctx) => {
  if (v === undefined) return [];
  const list = v
    .split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  for (const b of list) {
    if (!/^[A-Za-z0-9._\-[\]:]+:\d{1,5}$/.test(b)) {
      ctx.addIssue({ code: "custom", message: `"${b}" is not host:port` });
      return z.NEVER;
    }
  }
  return list;
});

/** A port that is off unless set (0-65535 once set). */
const optionalPort = optionalText.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    ctx.addIssue({ code: "custom", message: "must be a port number 0-65535, or unset (off)" });
    return z.NEVER;
  }
  return n;
});

export const EnvSchema = z.object({
  ROLE: z.enum(ROLES, { error: `must be one of ${ROLES.join(", ")}` }).default("all"),
  POSTGRES_URL: postgresUrl,
  POSTGRES_USERNAME: optionalText,
  POSTGRES_PASSWORD: optionalText,
  POSTGRES_READ_URL: postgresUrl,
  POSTGRES_SSL: z.enum(["disable", "require", "verify-full"]).default("disable"),
  POSTGRES_SSL_CA: optionalText,
  POSTGRES_POOL_SIZE: count(10, 1, 200),
  KAFKA_BOOTSTRAP_SERVERS: brokers,
  KAFKA_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, "must be a valid Kafka topic name")
    .default("log-events"),
  KAFKA_PARTITIONS: count(6, 1, 10_000),
  KAFKA_REPLICATION_FACTOR: count(1, 1, 16),
  KAFKA_CONSUMER_GROUP: z.string().min(1).default("log-consumer-group"),
  KAFKA_CLIENT_ID: z.string().min(1).default("logproc"),
  KAFKA_SEND_TIMEOUT_MS: count(1500, 100, 60_000),
  KAFKA_LINGER_MS: count(0, 0, 1000),
  KAFKA_BATCH_MAX_EVENTS: count(500, 1, 100_000),
  KAFKA_RECORD_MAX_EVENTS: count(DEFAULT_RECORD_EVENTS, 1, 10_000),
  KAFKA_COMPRESSION: z
    .enum(["zstd", "gzip", "none"], { error: "must be one of zstd, gzip, none" })
    .default("zstd"),
  // The broker refuses sessions outside group.min/max.session.timeout.ms (6 s and 30 min by default).
  KAFKA_SESSION_TIMEOUT_MS: count(10_000, 6000, 1_800_000),
  KAFKA_SSL: bool(false),
  KAFKA_SSL_CA: optionalText,
  KAFKA_SASL_MECHANISM: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).optional(),
  KAFKA_SASL_USERNAME: optionalText,
  KAFKA_SASL_PASSWORD: optionalText,
  REDIS_URL: optionalText.refine(
    (v) => v === undefined || /^rediss?:\/\/.+/.test(v),
    "must be redis://… or rediss://…",
  ),
  REDIS_HOST: optionalText,
  REDIS_PORT: port(6379),
  REDIS_PASSWORD: optionalText,
  REDIS_TLS: bool(false),
  PROMETHEUS_ENABLED: bool(true),
  METRICS_REQUIRE_KEY: bool(false),
  // No default here: unset, the bind address depends on whether API keys are configured (exposure.ts).
  HOST: optionalText,
  GATEWAY_PORT: port(8080),
  PRODUCER_PORT: port(8081),
  CONSUMER_PORT: port(8082),
  DATA_DIR: z.string().min(1).default("./data"),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  INGEST_API_KEYS: keyList,
  QUERY_API_KEYS: keyList,
  CORS_ORIGINS: z
    .string()
    .default("*")
    .transform((v) =>
      v
        .split(",")
        .map((o) => o.trim())
        .filter((o) => o.length > 0),
    )
    .refine((list) => list.every((o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o)), {
      message: "must be * or a comma-separated list of origins like https://app.example.com (no path)",
    }),
  RATE_LIMIT_RPS: count(0, 0, 10_000_000),
  RATE_LIMIT_BURST: count(0, 0, 10_000_000),
  RATE_LIMIT_GLOBAL_RPS: count(0, 0, 100_000_000),
  MAX_BODY_BYTES: count(10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  MAX_BATCH_EVENTS: count(10_000, 1, 1_000_000),
  ASYNC_PUBLISH_ATTEMPTS: count(8, 1, 20),
  ASYNC_MAX_PENDING: count(10_000, 1, 10_000_000),
  PRODUCER_MAX_PENDING_EVENTS: count(50_000, 1, 10_000_000),
  MAX_EVENT_BYTES: count(256 * 1024, 1024, 1024 * 1024 * 1024),
  MAX_MESSAGE_BYTES: count(32 * 1024, 1, 16 * 1024 * 1024),
  MAX_METADATA_BYTES: count(16 * 1024, 2, 16 * 1024 * 1024),
  CONSUMER_BATCH_SIZE: count(10_000, 1, 1_000_000),
  CONSUMER_BATCH_BYTES: count(32 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  CONSUMER_WRITERS: count(2, 1, 8),
  RETENTION_DAYS: count(0, 0, 36_500),
  CACHE_TTL_MS: count(300_000, 0, 86_400_000),
  CACHE_LIVE_TTL_MS: count(2000, 0, 2000),
  MAX_TAIL_STREAMS: count(1000, 1, 1_000_000),
  MAX_TAIL_STREAMS_PER_CLIENT: count(20, 1, 1_000_000),
  QUERY_TIMEOUT_MS: count(10_000, 100, 3_600_000),
  ELASTICSEARCH_COMPAT_VERSION: z
    .string()
    .regex(/^\d{1,2}\.\d{1,3}\.\d{1,3}$/, "must be a version like 8.17.0")
    .default("8.17.0"),
  SYSLOG_PORT: optionalPort,
  SYSLOG_MAX_CONNECTIONS: count(256, 1, 100_000),
  SYSLOG_MAX_LINE_BYTES: count(64 * 1024, 480, 16 * 1024 * 1024),
  SYSLOG_IDLE_TIMEOUT_S: count(300, 1, 86_400),
  STATS_MAX_SOURCES: count(100, 1, 100_000),
});

export type Env = z.infer<typeof EnvSchema>;
