// The syslog listener in process: what it read reaches the bus even across a bus outage, and stop() waits for it.

import { expect, test } from "bun:test";
import { DomainError } from "../../src/domain/errors.ts";
import { DEFAULT_EVENT_LIMITS, type LogEvent } from "../../src/domain/log-event.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createIngest } from "../../src/services/ingest.ts";
import { startSyslog } from "../../src/syslog/server.ts";
import { testMetrics } from "../helpers/bus-doubles.ts";

test("messages read while the bus refuses are published once it accepts again", async () => {
  const published: LogEvent[] = [];
  let down = true;
  let refusals = 0;
  const ingest = createIngest({
    publisher: {
      publish: async (events) => {
        if (down) {
          refusals++;
          throw new DomainError("unavailable", "bus down");
        }
        published.push(...events);
      },
    },
    limits: DEFAULT_EVENT_LIMITS,
    maxBatchEvents: 10_000,
  });
  const metrics = testMetrics();
  const server = await startSyslog(
    { host: "127.0.0.1", port: 0, maxConnections: 4, maxLineBytes: 4096, idleTimeoutS: 60 },
    { ingest, logger: silentLogger, metrics },
  );
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {} } });
    socket.write("<11>1 - h app - - - one\n<11>1 - h app - - - two\nnot syslog\n");
    socket.end();
    while (refusals < 2) await Bun.sleep(20);
    expect(published).toEqual([]);
    down = false;
    for (let i = 0; i < 200 && published.length < 3; i++) await Bun.sleep(25);
    expect(published.map((e) => [e.level, e.source, e.message])).toEqual([
      ["ERROR", "app", "one"],
      ["ERROR", "app", "two"],
      ["INFO", "syslog", "not syslog"],
    ]);
    const counts = await metrics.syslogMessages.get();
    expect(Object.fromEntries(counts.values.map((v) => [v.labels.format, v.value]))).toEqual({
      rfc5424: 2,
      malformed: 1,
    });
  } finally {
    await server.stop();
  }
});
