// loadConfig(): parses the environment once, fails with every bad variable named, returns a frozen Config.

import { bindHost, metricsKeyProblem, openRoles } from "./exposure.ts";
import { type Env, EnvSchema, type Role } from "./schema.ts";

export type { Role };

export interface PostgresConfig {
  url: string;
  readUrl: string;
  username: string | undefined;
  password: string | undefined;
  ssl: "disable" | "require" | "verify-full";
  sslCa: string | undefined;
  poolSize: number;
  /** Statement timeout of the read pool (the gateway's queries). */
  queryTimeoutMs: number;
}

export interface KafkaConfig {
  brokers: string[];
  topic: string;
  partitions: number;
  replicationFactor: number;
  group: string;
  clientId: string;
  sendTimeoutMs: number;
  /** How long concurrent publishes wait to share one produce request. */
  lingerMs: number;
  /** Most events in one shared produce request. */
  batchMaxEvents: number;
  /** Most events of one source packed into one Kafka record. */
  recordMaxEvents: number;
  /** How the producer compresses its record batches. */
  compression: "zstd" | "gzip" | "none";
  /** How long the group waits for a silent consumer before its partitions go to another (heartbeat: a third). */
  sessionTimeoutMs: number;
  ssl: boolean;
  sslCa: string | undefined;
  sasl:
    | { mechanism: "plain" | "scram-sha-256" | "scram-sha-512"; username: string; password: string }
    | undefined;
}

export interface RedisConfig {
  url: string | undefined;
  host: string;
  port: number;
  password: string | undefined;
  tls: boolean;
}

export interface RateLimitConfig {
  rps: number;
  burst: number;
  globalRps: number;
}

export interface Config {
  role: Role;
  /** HOST, or its default for the keys configured (exposure.ts). */
  host: string;
  /** The roles of this process that answer without an API key. */
  openRoles: readonly Exclude<Role, "all">[];
  ports: { gateway: number; producer: number; consumer: number };
  dataDir: string;
  logLevel: Env["LOG_LEVEL"];
  postgres: PostgresConfig | undefined;
  kafka: KafkaConfig | undefined;
  redis: RedisConfig | undefined;
  metrics: { enabled: boolean; requireKey: boolean };
  ingest: {
    apiKeys: string[];
    maxBodyBytes: number;
    maxBatchEvents: number;
    maxEventBytes: number;
    maxMessageBytes: number;
    maxMetadataBytes: number;
    asyncAttempts: number;
    asyncMaxPending: number;
    /** Events accepted and not yet confirmed by the bus, past which ingest answers 503 (backpressure). */
    maxPendingEvents: number;
    rateLimit: RateLimitConfig;
  };
  query: {
    apiKeys: string[];
    cacheTtlMs: number;
    liveTtlMs: number;
    corsOrigins: string[];
    /** The same RATE_LIMIT_* settings as ingest, with buckets of the gateway's own. */
    rateLimit: RateLimitConfig;
    maxTailStreams: number;
    maxTailStreamsPerClient: number;
    statsMaxSources: number;
  };
  consumer: { batchSize: number; batchBytes: number; writers: number; retentionDays: number };
  /** The shipper protocols: the Elasticsearch version the handshake reports, and syslog (off without a port). */
  protocols: {
    elasticsearchVersion: string;
    syslog: { port: number; maxConnections: number; maxLineBytes: number; idleTimeoutS: number } | undefined;
  };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
};

export const loadConfig = (env: Record<string, string | undefined>, roleOverride?: string): Config => {
  const input = { ...env, ...(roleOverride === undefined ? {} : { ROLE: roleOverride }) };
  const parsed = EnvSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? "environment");
        const shown = name === "ROLE" && roleOverride !== undefined ? "--role" : name;
        // URLs and secrets may carry credentials: name the variable, never echo its value.
        const secret = /URL|PASSWORD|KEYS|USERNAME/.test(name);
        const got = secret ? "" : ` (got ${JSON.stringify(input[name as keyof typeof input] ?? null)})`;
        return `${shown}: ${i.message}${got}`;
      }),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.KAFKA_SASL_MECHANISM && (!e.KAFKA_SASL_USERNAME || !e.KAFKA_SASL_PASSWORD))
    problems.push("KAFKA_SASL_USERNAME/KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set");
  const open = openRoles(e.ROLE, { ingest: e.INGEST_API_KEYS, query: e.QUERY_API_KEYS });
  const metricsProblem = metricsKeyProblem(e.METRICS_REQUIRE_KEY, open);
  if (metricsProblem) problems.push(metricsProblem);
  if (e.MAX_EVENT_BYTES < e.MAX_MESSAGE_BYTES + e.MAX_METADATA_BYTES)
    problems.push(
      `MAX_EVENT_BYTES: must be at least MAX_MESSAGE_BYTES + MAX_METADATA_BYTES (${e.MAX_MESSAGE_BYTES + e.MAX_METADATA_BYTES}) (got ${e.MAX_EVENT_BYTES})`,
    );
  if (problems.length) throw new ConfigError(problems);

  const postgres: PostgresConfig | undefined = e.POSTGRES_URL
    ? {
        url: e.POSTGRES_URL,
        readUrl: e.POSTGRES_READ_URL ?? e.POSTGRES_URL,
        username: e.POSTGRES_USERNAME,
        password: e.POSTGRES_PASSWORD,
        ssl: e.POSTGRES_SSL,
        sslCa: e.POSTGRES_SSL_CA,
        poolSize: e.POSTGRES_POOL_SIZE,
        queryTimeoutMs: e.QUERY_TIMEOUT_MS,
      }
    : undefined;
  const kafka: KafkaConfig | undefined = e.KAFKA_BOOTSTRAP_SERVERS.length
    ? {
        brokers: e.KAFKA_BOOTSTRAP_SERVERS,
        topic: e.KAFKA_TOPIC,
        partitions: e.KAFKA_PARTITIONS,
        replicationFactor: e.KAFKA_REPLICATION_FACTOR,
        group: e.KAFKA_CONSUMER_GROUP,
        clientId: e.KAFKA_CLIENT_ID,
        sendTimeoutMs: e.KAFKA_SEND_TIMEOUT_MS,
        lingerMs: e.KAFKA_LINGER_MS,
        batchMaxEvents: e.KAFKA_BATCH_MAX_EVENTS,
        recordMaxEvents: e.KAFKA_RECORD_MAX_EVENTS,
        compression: e.KAFKA_COMPRESSION,
        sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
        ssl: e.KAFKA_SSL,
        sslCa: e.KAFKA_SSL_CA,
        sasl:
          e.KAFKA_SASL_MECHANISM && e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD
            ? {
                mechanism: e.KAFKA_SASL_MECHANISM,
                username: e.KAFKA_SASL_USERNAME,
                password: e.KAFKA_SASL_PASSWORD,
              }
            : undefined,
      }
    : undefined;
  const redis: RedisConfig | undefined =
    e.REDIS_URL || e.REDIS_HOST
      ? {
          url: e.REDIS_URL,
          host: e.REDIS_HOST ?? "127.0.0.1",
          port: e.REDIS_PORT,
          password: e.REDIS_PASSWORD,
          tls: e.REDIS_TLS,
        }
      : undefined;

  const rateLimit: RateLimitConfig = {
    rps: e.RATE_LIMIT_RPS,
    burst: e.RATE_LIMIT_BURST || e.RATE_LIMIT_RPS * 2,
    globalRps: e.RATE_LIMIT_GLOBAL_RPS,
  };
  return deepFreeze({
    role: e.ROLE,
    host: bindHost(e.HOST, open),
    openRoles: open,
    ports: { gateway: e.GATEWAY_PORT, producer: e.PRODUCER_PORT, consumer: e.CONSUMER_PORT },
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    postgres,
    kafka,
    redis,
    metrics: { enabled: e.PROMETHEUS_ENABLED, requireKey: e.METRICS_REQUIRE_KEY },
    ingest: {
      apiKeys: e.INGEST_API_KEYS,
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxBatchEvents: e.MAX_BATCH_EVENTS,
      maxEventBytes: e.MAX_EVENT_BYTES,
      maxMessageBytes: e.MAX_MESSAGE_BYTES,
      maxMetadataBytes: e.MAX_METADATA_BYTES,
      asyncAttempts: e.ASYNC_PUBLISH_ATTEMPTS,
      asyncMaxPending: e.ASYNC_MAX_PENDING,
      maxPendingEvents: e.PRODUCER_MAX_PENDING_EVENTS,
      rateLimit,
    },
    query: {
      apiKeys: e.QUERY_API_KEYS,
      cacheTtlMs: e.CACHE_TTL_MS,
      liveTtlMs: e.CACHE_LIVE_TTL_MS,
      corsOrigins: e.CORS_ORIGINS,
      rateLimit,
      maxTailStreams: e.MAX_TAIL_STREAMS,
      maxTailStreamsPerClient: e.MAX_TAIL_STREAMS_PER_CLIENT,
      statsMaxSources: e.STATS_MAX_SOURCES,
    },
    consumer: {
      batchSize: e.CONSUMER_BATCH_SIZE,
      writers: e.CONSUMER_WRITERS,
      batchBytes: e.CONSUMER_BATCH_BYTES,
      retentionDays: e.RETENTION_DAYS,
    },
    protocols: {
      elasticsearchVersion: e.ELASTICSEARCH_COMPAT_VERSION,
      syslog:
        e.SYSLOG_PORT === undefined
          ? undefined
          : {
              port: e.SYSLOG_PORT,
              maxConnections: e.SYSLOG_MAX_CONNECTIONS,
              maxLineBytes: e.SYSLOG_MAX_LINE_BYTES,
              idleTimeoutS: e.SYSLOG_IDLE_TIMEOUT_S,
            },
    },
  });
};
