// Loki push from winston-loki (the most used Loki client on npm) in both its encodings, snappy protobuf (its
// default) and JSON, into dist/logproc's split roles on real Kafka and PostgreSQL, found again via the gateway.

import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import winston from "winston";
import LokiTransport from "winston-loki";
import { INGEST_KEY, ShipperStack } from "../helpers/shipper-stack.ts";

let stack: ShipperStack;
beforeAll(async () => {
  stack = await ShipperStack.start("loki");
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

/** winston's npm levels and the levels their Loki `level` label must land as. */
const LEVELS: [string, string][] = [
  ["error", "ERROR"],
  ["warn", "WARN"],
  ["info", "INFO"],
  ["http", "INFO"],
  ["verbose", "DEBUG"],
  ["debug", "DEBUG"],
  ["silly", "TRACE"],
];

const BASE_TIME = Date.parse("2026-03-04T05:06:07.000Z");

/** Logs `rounds` lines per level through winston-loki, each with its own time; resolves once all were pushed. */
const sendWithWinston = async (json: boolean, labels: Record<string, string>, rounds: number) => {
  const transport = new LokiTransport({
    host: stack.producerUrl,
    json,
    labels,
    headers: { Authorization: `Bearer ${INGEST_KEY}` },
    interval: 0.2,
    replaceTimestamp: false,
    // The line is the message alone (winston-loki appends the meta as JSON otherwise).
    format: winston.format.printf((info) => String(info.message)),
    onConnectionError: (error: unknown) => console.error("winston-loki:", error),
  });
  const logger = winston.createLogger({
    levels: winston.config.npm.levels,
    level: "silly",
    transports: [transport],
  });
  let n = 0;
  for (let round = 0; round < rounds; round++)
    for (const [level] of LEVELS)
      logger.log({
        level,
        message: `${labels.app ?? labels.job} ${level} line ${round}`,
        timestamp: new Date(BASE_TIME + n++).toISOString(),
        requestId: `req-${round}`,
      });
  await transport.flush();
  await transport.close();
};

describe("Loki push from winston-loki", () => {
  it("stores every line of its default snappy protobuf push, level and source from the labels", async () => {
    const labels = { job: "loki-proto-job", env: "e2e" };
    await sendWithWinston(false, labels, 30);
    const events = await stack.eventsOf("loki-proto-job", 30 * LEVELS.length);
    expect(events).toHaveLength(30 * LEVELS.length);
    let n = 0;
    for (let round = 0; round < 30; round++)
      for (const [level, expected] of LEVELS) {
        const event = events.find((e) => e.message === `loki-proto-job ${level} line ${round}`);
        expect(event?.level).toBe(expected);
        expect(event?.source).toBe("loki-proto-job");
        expect(event?.timestamp).toBe(new Date(BASE_TIME + n++).toISOString());
        // No requestId: winston-loki's protobuf push carries no structured metadata, its JSON push does (so
        // this also shows the push was protobuf, not its JSON fallback when snappy cannot load).
        expect(event?.metadata).toEqual({ level, job: "loki-proto-job", env: "e2e" });
      }
  }, 120_000);

  it("stores every line of its JSON push, with winston's meta as structured metadata", async () => {
    const labels = { app: "loki-json-app", env: "e2e" };
    await sendWithWinston(true, labels, 30);
    const events = await stack.eventsOf("loki-json-app", 30 * LEVELS.length);
    expect(events).toHaveLength(30 * LEVELS.length);
    let n = 0;
    for (let round = 0; round < 30; round++)
      for (const [level, expected] of LEVELS) {
        const event = events.find((e) => e.message === `loki-json-app ${level} line ${round}`);
        expect(event?.level).toBe(expected);
        expect(event?.source).toBe("loki-json-app");
        expect(event?.timestamp).toBe(new Date(BASE_TIME + n++).toISOString());
        expect(event?.metadata).toEqual({
          level,
          app: "loki-json-app",
          env: "e2e",
          requestId: `req-${round}`,
        });
      }
  }, 120_000);
});
