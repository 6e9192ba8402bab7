// Every environment variable logproc reads, with its default and meaning: the source of --help and the example env.

export interface Variable {
  name: string;
  default?: string;
  help: string;
}

export const VARIABLES: readonly Variable[] = [
  { name: "ROLE", default: "all", help: "producer | consumer | gateway | all (the --role flag wins)" },
  {
    name: "POSTGRES_URL",
    help: "postgres://user:pass@host:port/db or jdbc:postgresql://host:port/db; unset = embedded SQLite",
  },
  { name: "POSTGRES_USERNAME", help: "user name, when not in POSTGRES_URL" },
  { name: "POSTGRES_PASSWORD", help: "password, when not in POSTGRES_URL" },
  {
    name: "POSTGRES_READ_URL",
    help: "a read replica for the gateway's queries (same forms as POSTGRES_URL)",
  },
  { name: "POSTGRES_SSL", default: "disable", help: "disable | require | verify-full" },
  { name: "POSTGRES_SSL_CA", help: "path of a PEM CA bundle for verify-full" },
  { name: "POSTGRES_POOL_SIZE", default: "10", help: "connections per role" },
  { name: "KAFKA_BOOTSTRAP_SERVERS", help: "host:port[,host:port]; unset = the in-process bus" },
  {
    name: "KAFKA_TOPIC",
    default: "log-events",
    help: "topic of log events (dead letters go to <topic>.dlq)",
  },
  { name: "KAFKA_PARTITIONS", default: "6", help: "partitions when the topic is created" },
  { name: "KAFKA_REPLICATION_FACTOR", default: "1", help: "replication factor when the topic is created" },
  {
    name: "KAFKA_CONSUMER_GROUP",
    default: "log-consumer-group",
    help: "consumer group of the consumer role",
  },
  { name: "KAFKA_CLIENT_ID", default: "logproc", help: "client id sent to the brokers" },
  {
    name: "KAFKA_SEND_TIMEOUT_MS",
    default: "1500",
    help: "bound on one produce request (a large publish gets one per ~900 KB it sends); past it the request gets 503",
  },
  {
    name: "KAFKA_LINGER_MS",
    default: "0",
    help: "how long a publish waits for others to share its produce request (Kafka's linger.ms); with 0 the send that is out gathers the next batch",
  },
  {
    name: "KAFKA_BATCH_MAX_EVENTS",
    default: "500",
    help: "most events in one shared produce request; a publish this big is sent alone, at once",
  },
  {
    name: "KAFKA_RECORD_MAX_EVENTS",
    default: "100",
    help: "most events of one source packed into one Kafka record (1 = one event per record, what consumers before record packing read)",
  },
  {
    name: "KAFKA_COMPRESSION",
    default: "zstd",
    help: "zstd | gzip | none: how the producer compresses record batches (every role reads all three; consumers before zstd support need none)",
  },
  {
    name: "KAFKA_SESSION_TIMEOUT_MS",
    default: "10000",
    help: "a consumer silent this long (killed, hung) loses its partitions to another; heartbeat every third",
  },
  { name: "KAFKA_SSL", default: "false", help: "TLS to the brokers" },
  { name: "KAFKA_SSL_CA", help: "path of a PEM CA bundle for the brokers" },
  { name: "KAFKA_SASL_MECHANISM", help: "plain | scram-sha-256 | scram-sha-512" },
  { name: "KAFKA_SASL_USERNAME", help: "SASL user" },
  { name: "KAFKA_SASL_PASSWORD", help: "SASL password" },
  {
    name: "REDIS_URL",
    help: "redis://[:password@]host:port[/db] or rediss:// for TLS; wins over REDIS_HOST",
  },
  { name: "REDIS_HOST", help: "Redis host; unset (and no REDIS_URL) = in-memory cache" },
  { name: "REDIS_PORT", default: "6379", help: "Redis port" },
  { name: "REDIS_PASSWORD", help: "Redis AUTH password" },
  { name: "REDIS_TLS", default: "false", help: "TLS to Redis" },
  { name: "PROMETHEUS_ENABLED", default: "true", help: "serve /metrics and /actuator/prometheus" },
  {
    name: "METRICS_REQUIRE_KEY",
    default: "false",
    help: "metrics need an API key like the data routes (true without API keys is an error)",
  },
  {
    name: "HOST",
    help: "address the HTTP servers bind; unset = 127.0.0.1, or 0.0.0.0 when every role run has API keys",
  },
  { name: "GATEWAY_PORT", default: "8080", help: "gateway HTTP port" },
  { name: "PRODUCER_PORT", default: "8081", help: "producer HTTP port" },
  { name: "CONSUMER_PORT", default: "8082", help: "consumer health/metrics port" },
  { name: "DATA_DIR", default: "./data", help: "directory of the embedded SQLite database" },
  { name: "LOG_LEVEL", default: "info", help: "debug | info | warn | error" },
  { name: "INGEST_API_KEYS", help: "comma-separated keys; set = the producer requires one" },
  { name: "QUERY_API_KEYS", help: "comma-separated keys; set = the gateway requires one" },
  {
    name: "CORS_ORIGINS",
    default: "*",
    help: "browser origins allowed to call the query API, comma-separated; * = any",
  },
  {
    name: "RATE_LIMIT_RPS",
    default: "0",
    help: "requests/s per client (API key, else address) on the producer and on the gateway; 0 = off",
  },
  { name: "RATE_LIMIT_BURST", default: "0", help: "burst per client; 0 = 2 x RATE_LIMIT_RPS" },
  { name: "RATE_LIMIT_GLOBAL_RPS", default: "0", help: "requests/s over all clients; 0 = off" },
  { name: "MAX_BODY_BYTES", default: "10485760", help: "largest request body (after gzip decompression)" },
  { name: "MAX_BATCH_EVENTS", default: "10000", help: "most events in one batch request" },
  {
    name: "ASYNC_PUBLISH_ATTEMPTS",
    default: "8",
    help: "tries of one /ingest/async event on the bus before it is dropped (waits ~0.25 s doubling to 5 s: ~18 s)",
  },
  {
    name: "ASYNC_MAX_PENDING",
    default: "10000",
    help: "most /ingest/async events awaiting the bus; past it the endpoint answers 503",
  },
  {
    name: "PRODUCER_MAX_PENDING_EVENTS",
    default: "50000",
    help: "events accepted but not yet confirmed by the bus; past it ingest answers 503 with Retry-After",
  },
  {
    name: "MAX_EVENT_BYTES",
    default: "262144",
    help: "largest JSON text of one event (a batch item, or a single-event body); a larger one is not parsed",
  },
  { name: "MAX_MESSAGE_BYTES", default: "32768", help: "largest message, UTF-8 bytes" },
  { name: "MAX_METADATA_BYTES", default: "16384", help: "largest metadata, serialized bytes" },
  { name: "CONSUMER_BATCH_SIZE", default: "10000", help: "most events written in one COPY transaction" },
  {
    name: "CONSUMER_BATCH_BYTES",
    default: "33554432",
    help: "most bytes of records in one consumer batch (a larger record goes alone)",
  },
  {
    name: "CONSUMER_WRITERS",
    default: "2",
    help: "batches a consumer writes at once, each of its own partitions, on two connections each (Kafka and PostgreSQL)",
  },
  {
    name: "RETENTION_DAYS",
    default: "0",
    help: "delete events of days older than this (PostgreSQL and SQLite); 0 = keep all",
  },
  {
    name: "CACHE_TTL_MS",
    default: "300000",
    help: "cache lifetime of a query window that ended before the watermark",
  },
  {
    name: "CACHE_LIVE_TTL_MS",
    default: "2000",
    help: "cache lifetime of a query window touching the live edge",
  },
  { name: "MAX_TAIL_STREAMS", default: "1000", help: "live tails open at once on one gateway; beyond = 429" },
  {
    name: "MAX_TAIL_STREAMS_PER_CLIENT",
    default: "20",
    help: "live tails one client (API key, else address) may hold open; beyond = 429",
  },
  {
    name: "QUERY_TIMEOUT_MS",
    default: "10000",
    help: "statement timeout of the gateway's PostgreSQL reads; past it the query gets 503",
  },
  {
    name: "ELASTICSEARCH_COMPAT_VERSION",
    default: "8.17.0",
    help: "Elasticsearch version the _bulk handshake reports (GET / on the producer port)",
  },
  { name: "SYSLOG_PORT", help: "TCP and UDP port of the syslog listener (RFC 5424/3164); unset = off" },
  { name: "SYSLOG_MAX_CONNECTIONS", default: "256", help: "most open syslog TCP connections" },
  { name: "SYSLOG_MAX_LINE_BYTES", default: "65536", help: "longest syslog message; longer ones are cut" },
  {
    name: "SYSLOG_IDLE_TIMEOUT_S",
    default: "300",
    help: "a syslog TCP connection silent this long is closed",
  },
  {
    name: "STATS_MAX_SOURCES",
    default: "100",
    help: "sources listed by count in a stats answer; the rest are summed in otherSources",
  },
];
