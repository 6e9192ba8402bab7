// Single events on real Kafka: concurrent publishes share sends and land once; overload is backpressure, not an outage.

import { afterEach, describe, expect, test } from "bun:test";
import { CoalescingPublisher } from "../../src/adapters/bus/coalescing-publisher.ts";
import { guardPublisher } from "../../src/adapters/bus/guarded-publisher.ts";
import { createKafkaPublisher } from "../../src/adapters/bus/kafka/publisher.ts";
import { dlqTopicOf } from "../../src/adapters/bus/kafka/topics.ts";
import { loadConfig } from "../../src/config/load.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { buildProducerApp, type ProducerParts } from "../../src/roles/producer.ts";
import { deleteTopics, testKafkaConfig, topicEvents } from "../contract/kafka-fixture.ts";
import { testEvent } from "../helpers/bus-doubles.ts";
import {
  API,
  type Cleanup,
  JSON_TYPE,
  replyOf,
  runCleanups,
  validEvent,
} from "../helpers/producer-harness.ts";
import { TEST_KAFKA_BROKERS, uniqueName } from "../helpers/services.ts";

const cleanups: Cleanup[] = [];
afterEach(() => runCleanups(cleanups));

const startedPublisher = async (brokers: string[], topic: string, sendTimeoutMs: number) => {
  const publisher = createKafkaPublisher(testKafkaConfig({ brokers, topic, sendTimeoutMs }), {
    logger: silentLogger,
  });
  await publisher.start();
  cleanups.push(() => publisher.stop());
  return publisher;
};

/** The producer app on Kafka with the given settings; its publisher is started and stopped by the test. */
const producerOn = async (brokers: string[], env: Record<string, string>, guard?: ProducerParts["guard"]) => {
  const topic = uniqueName("single");
  const config = loadConfig({ KAFKA_BOOTSTRAP_SERVERS: brokers.join(","), KAFKA_TOPIC: topic, ...env });
  if (!config.kafka) throw new Error("no Kafka settings");
  const publisher = await startedPublisher(brokers, topic, config.kafka.sendTimeoutMs);
  const metrics = createMetrics(new Registry(), { defaults: false });
  const app = buildProducerApp(config, {
    publisher,
    metrics,
    logger: silentLogger,
    ...(guard ? { guard } : {}),
  });
  const post = (path: string) =>
    app.request(`${API}${path}`, { method: "POST", body: JSON.stringify(validEvent), headers: JSON_TYPE });
  const ready = async () => {
    cleanups.push(() => deleteTopics([topic, dlqTopicOf(topic)]));
    while ((await app.request(`${API}/health`)).status !== 200) await Bun.sleep(100);
  };
  const metric = async (name: string) => {
    const text = await metrics.registry.metrics();
    return text
      .split("\n")
      .find((l) => l.startsWith(name))
      ?.split(" ")[1];
  };
  return { topic, post, ready, metric };
};

describe("concurrent single events on Kafka", () => {
  test("N concurrent publishes go out in fewer sends than N, and each event is on the topic once", async () => {
    const topic = uniqueName("coalesce");
    cleanups.push(() => deleteTopics([topic, dlqTopicOf(topic)]));
    const kafka = await startedPublisher(TEST_KAFKA_BROKERS, topic, 5000);
    const metrics = createMetrics(new Registry(), { defaults: false });
    const guarded = guardPublisher(kafka, { timeoutMs: 5250, logger: silentLogger, metrics });
    const bus = new CoalescingPublisher(guarded, {
      lingerMs: 2,
      maxBatchEvents: 500,
      maxPendingEvents: 50_000,
      answerWithinMs: 5250,
      metrics,
    });
    while (!(await kafka.health()).ok) await Bun.sleep(100);

    const n = 300;
    const events = Array.from({ length: n }, (_, i) => ({ ...testEvent(i), id: crypto.randomUUID() }));
    await Promise.all(events.map((e) => bus.publish([e])));

    const sends = (await metrics.busSends.get()).values.find((v) => v.labels.result === "ok")?.value ?? 0;
    expect(sends).toBeGreaterThan(0);
    expect(sends).toBeLessThan(n);
    const carried = (await metrics.busSendEvents.get()).values.find((v) => v.metricName?.endsWith("_sum"));
    expect(carried?.value).toBe(n);

    // Every publish has resolved, so the topic is complete: anything beyond n events would be a duplicate.
    const ids = (await topicEvents(topic)).map((e) => e.id);
    expect(ids).toHaveLength(n);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
  }, 60_000);
});

describe("overload and outage through the producer app", () => {
  test("past the in-flight limit: 503 overloaded with Retry-After; the circuit stays closed", async () => {
    // A long linger holds the first events in the queue, so the limit is reached deterministically.
    const p = await producerOn(TEST_KAFKA_BROKERS, {
      KAFKA_LINGER_MS: "1000",
      KAFKA_SEND_TIMEOUT_MS: "5000",
      PRODUCER_MAX_PENDING_EVENTS: "5",
    });
    await p.ready();
    const answers = await Promise.all(
      [...Array.from({ length: 8 }, () => "/ingest"), "/ingest/async"].map((path) => p.post(path)),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200 || s === 202).length).toBe(5);
    const refused = answers.filter((r) => r.status === 503);
    expect(refused.length).toBe(4);
    for (const r of refused) {
      expect(r.headers.get("retry-after")).toBe("1");
      expect((await replyOf(r)).error).toBe("overloaded");
    }
    expect(await p.metric('circuit_breaker_state{name="bus"}')).toBe("0");
    expect(await p.metric('log_ingestion_total{status="overloaded"}')).toBe("4");
    // Nothing to wait out: the next request is taken.
    expect((await p.post("/ingest/async")).status).toBe(202);
  }, 60_000);

  test("an unreachable broker answers 503 without hanging and opens the circuit; then 503 at once", async () => {
    const p = await producerOn(["127.0.0.1:1"], { KAFKA_SEND_TIMEOUT_MS: "300" }, { failureThreshold: 3 });
    let opened = false;
    for (let round = 0; round < 10 && !opened; round++) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => p.post("/ingest")));
      for (const r of answers) {
        expect(r.status).toBe(503);
        expect(r.headers.get("retry-after")).not.toBeNull();
      }
      opened = (await p.metric('circuit_breaker_state{name="bus"}')) === "2";
    }
    expect(opened).toBe(true);
    const fast = await p.post("/ingest");
    expect(fast.status).toBe(503);
    expect((await replyOf(fast)).message).toContain("failing");
    expect((await p.post("/ingest/async")).status).toBe(503);
  }, 60_000);
});
