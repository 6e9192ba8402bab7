#!/usr/bin/env bun
// logproc: parse flags → load config → start the chosen roles; SIGTERM stops them in reverse order.

import { parseArgs } from "node:util";
import pkg from "../package.json" with { type: "json" };
import { ConfigError, loadConfig } from "./config/load.ts";
import { VARIABLES } from "./config/variables.ts";
import { parseTime } from "./domain/time.ts";
import { createLogger } from "./observability/logger.ts";
import { logRejections } from "./observability/rejections.ts";
import { logWarnings } from "./observability/warnings.ts";
import { missingServices, startRoles } from "./roles/compose.ts";
import { runReplay } from "./roles/replay.ts";

const USAGE = `logproc ${pkg.version} — a log pipeline: HTTP ingest → Kafka → PostgreSQL, with a query gateway

Usage: logproc [--role producer|consumer|gateway|all] [options]

Roles:
  producer   ingestion API (PRODUCER_PORT) publishing to Kafka
  consumer   Kafka → PostgreSQL with COPY, exactly once in effect (health/metrics on CONSUMER_PORT)
  gateway    query API, search, stats, live tail (GATEWAY_PORT), cached in Redis
  all        the three in one process (default); with nothing configured it runs embedded:
             in-process bus, SQLite under DATA_DIR, in-memory cache

Options:
  --role <role>            the role to run (env ROLE)
  --replay-from <when>     consumer: rebuild the read model from the topic, 'earliest' or an ISO time
  --replay-schema <name>   consumer replay: PostgreSQL schema to rebuild into (default: replay)
  --help                   this text
  --version                the version

Environment:
${VARIABLES.map((v) => `  ${v.name.padEnd(26)} ${v.help}${v.default !== undefined ? ` (default: ${v.default})` : ""}`).join("\n")}
`;

const main = async (): Promise<number> => {
  let flags: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: Bun.argv.slice(2),
      options: {
        role: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
        "replay-from": { type: "string" },
        "replay-schema": { type: "string" },
      },
      strict: true,
    });
  try {
    flags = parse();
  } catch (error) {
    process.stderr.write(`logproc: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (flags.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (flags.values.version) {
    process.stdout.write(`logproc ${pkg.version}\n`);
    return 0;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, flags.values.role);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`logproc: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const missing = missingServices(config);
  if (missing) {
    process.stderr.write(`logproc: ${missing}\n`);
    return 2;
  }
  const logger = createLogger(config.logLevel, { service: "logproc" });
  logWarnings(logger);
  logRejections(logger);
  const replayFrom = flags.values["replay-from"];
  if (replayFrom !== undefined) {
    const from = replayFrom === "earliest" ? "earliest" : parseTime(replayFrom);
    const schema = flags.values["replay-schema"] ?? "replay";
    if (
      from === undefined ||
      config.role !== "consumer" ||
      !config.kafka ||
      !config.postgres ||
      !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)
    ) {
      process.stderr.write(
        "logproc: --replay-from needs --role consumer, KAFKA_BOOTSTRAP_SERVERS, POSTGRES_URL, 'earliest' or an ISO time, and a lower-case --replay-schema\n",
      );
      return 2;
    }
    await runReplay(config, logger.child({ role: "replay" }), { from, schema });
    return 0;
  }
  // Signals are taken from the start: one that comes while the roles start stops them once they have
  // started (the runtime's default would end the process at once, exit code 143).
  let signalled = false;
  let stopRoles: (() => void) | undefined;
  const onSignal = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    logger.info("stopping", { signal });
    // A second signal or a stuck shutdown must not keep the process alive forever.
    setTimeout(() => process.exit(1), 30_000).unref();
    stopRoles?.();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  const running = await startRoles(config, logger);
  logger.info("started", { role: config.role, embedded: !config.kafka && !config.postgres });
  await new Promise<void>((resolve) => {
    stopRoles = () => void running.stop().then(resolve, resolve);
    if (signalled) stopRoles();
  });
  logger.info("stopped");
  return 0;
};

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `logproc: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
