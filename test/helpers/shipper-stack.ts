// Split roles of dist/logproc (producer, consumer, gateway) on a topic and database of the test's own, with an
// ingest API key, and a way to read back through the gateway every event a shipper sent.

import { Scenario } from "./faults-harness.ts";
import { type LogprocProcess, waitUntil } from "./faults-process.ts";

export const INGEST_KEY = "shipper-test-key-1";

export interface StoredEvent {
  id: string;
  level: string;
  message: string;
  source: string;
  timestamp: string;
  metadata: Record<string, unknown> | null;
}

export class ShipperStack {
  private constructor(
    readonly scenario: Scenario,
    readonly producer: LogprocProcess,
    readonly gateway: LogprocProcess,
  ) {}

  static async start(name: string): Promise<ShipperStack> {
    const scenario = await Scenario.create(name, 3);
    const keys = { INGEST_API_KEYS: INGEST_KEY };
    const consumer = scenario.start("consumer");
    const producer = scenario.start("producer", keys);
    const gateway = scenario.start("gateway");
    await scenario.consumerUp(consumer);
    const context = () => [producer, gateway, consumer].map((p) => p.tail()).join("\n");
    for (const [p, path] of [
      [producer, `http://127.0.0.1:${producer.ports.producer}/producer/api/logs/health`],
      [gateway, `http://127.0.0.1:${gateway.ports.gateway}/gateway/api/query/health`],
    ] as const)
      await waitUntil(`${p.name} healthy`, async () => (await fetch(path)).ok, 60_000, 250, context);
    return new ShipperStack(scenario, producer, gateway);
  }

  /** The producer's base URL (its port's root, where /v1/logs and /loki/api/v1/push live). */
  get producerUrl(): string {
    return `http://127.0.0.1:${this.producer.ports.producer}`;
  }

  /** Every stored event of `source`, once `count` of them are there (newest first, as the gateway lists). */
  async eventsOf(source: string, count: number, timeoutMs = 60_000): Promise<StoredEvent[]> {
    let events: StoredEvent[] = [];
    const url = `http://127.0.0.1:${this.gateway.ports.gateway}/gateway/api/query/logs?source=${encodeURIComponent(source)}&size=1000&startTime=2020-01-01T00:00:00Z`;
    await waitUntil(
      `${count} events of ${source} in the gateway`,
      async () => {
        const res = await fetch(url);
        if (!res.ok) return false;
        events = ((await res.json()) as { content: StoredEvent[] }).content;
        return events.length >= count;
      },
      timeoutMs,
      250,
      () => `found ${events.length}\n${this.producer.tail()}`,
    );
    return events;
  }

  async stop(): Promise<void> {
    await this.scenario.cleanup();
  }
}
