// Stops and restarts the shared Kafka broker under the adapters themselves: the last file of test/faults.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { resolve } from "node:path";
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import { createKafkaSubscriber } from "../../src/adapters/bus/kafka/subscriber.ts";
import { withDeadline } from "../../src/adapters/bus/kafka/timing.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { createLogger, silentLogger } from "../../src/observability/logger.ts";
import { deleteTopics, testKafkaConfig } from "../contract/kafka-fixture.ts";
import { makeEvents, waitFor } from "../contract/log-bus.contract.ts";
import { eventsOf } from "../helpers/bus-events.ts";

setDefaultTimeout(300_000);

// TEST_KAFKA_LOG=1 shows the adapters' own log lines (reconnects, crashes) when this test needs a look.
const logger = process.env.TEST_KAFKA_LOG ? createLogger("info") : silentLogger;
const SERVICES = resolve(import.meta.dir, "../../scripts/services.sh");

const services = async (...args: string[]): Promise<void> => {
  const proc = Bun.spawn([SERVICES, ...args], { stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`services.sh ${args.join(" ")} failed (${code}):\n${stderr}`);
};

describe("Kafka outage", () => {
  // Whatever happens in the test, the shared broker must come back for everyone else.
  afterAll(async () => {
    await services("start", "kafka");
  });

  test("publish rejects within its timeout while the broker is down; publisher and subscriber recover by themselves", async () => {
    const cfg = testKafkaConfig({ sendTimeoutMs: 1000 });
    const publisher = createKafkaPublisher(cfg, { logger });
    const subscriber = createKafkaSubscriber(cfg, { logger });
    const seen = new Set<string>();
    try {
      await publisher.start();
      await subscriber.start();
      await subscriber.run(async (batch) => {
        for (const r of batch.records) for (const e of eventsOf(r)) seen.add(e.id);
      });
      const before = makeEvents(20, ["a", "b"], "before");
      await publisher.publish(before);
      await waitFor("events before the outage", () => seen.size === 20);

      try {
        await services("stop", "kafka");
        // A generous bound, not a latency assertion: the point is that publish settles instead of hanging.
        const outcome = await withDeadline(
          publisher.publish(makeEvents(5, ["a"], "during")).then(
            () => "accepted",
            (e: unknown) => e,
          ),
          cfg.sendTimeoutMs + 10_000,
          "publish hung while the broker was down",
        );
        expect(outcome).toBeInstanceOf(DomainError);
        expect((outcome as DomainError).code).toBe("unavailable");
        expect((await publisher.health()).ok).toBe(false);
        await waitFor("subscriber unhealthy", async () => !(await subscriber.health()).ok);
      } finally {
        await services("start", "kafka");
      }

      const after = makeEvents(20, ["a", "b"], "after");
      await waitFor(
        "publish accepted again",
        () =>
          publisher.publish(after).then(
            () => true,
            () => false,
          ),
        120_000,
      );
      await waitFor("publisher healthy", async () => (await publisher.health()).ok);
      await waitFor("events after the outage consumed", () => after.every((e) => seen.has(e.id)), 180_000);
      await waitFor("subscriber healthy", async () => (await subscriber.health()).ok);
    } finally {
      await subscriber.stop();
      await publisher.stop();
      await deleteTopics([cfg.topic, dlqTopicOf(cfg.topic)]).catch(() => undefined);
    }
  });
});
