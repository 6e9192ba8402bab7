// The split roles on a scenario of the test's own, for the shipper-protocol tests: producer (with an API key
// and syslog on), consumer and gateway; events found again through the gateway's query API.

import { Scenario } from "./faults-harness.ts";
import { type LogprocProcess, waitUntil } from "./faults-process.ts";
import { freePort } from "./proc.ts";

export interface FoundEvent {
  id: string;
  level: string;
  message: string;
  source: string;
  timestamp: string;
  metadata: Record<string, unknown> | null;
}

export interface ProtocolStack {
  scenario: Scenario;
  key: string;
  producer: LogprocProcess;
  /** http://127.0.0.1:<producer port> */
  producerUrl: string;
  syslogPort: number;
  /** Every stored event of a source, once at least `count` are there (polls the gateway). */
  eventsOf(source: string, count: number, timeoutMs?: number): Promise<FoundEvent[]>;
  context(): string;
  stop(): Promise<void>;
}

export const startProtocolStack = async (
  name: string,
  producerEnv: Record<string, string> = {},
): Promise<ProtocolStack> => {
  const scenario = await Scenario.create(name, 3);
  const key = `proto-key-${Math.random().toString(36).slice(2)}`;
  const syslogPort = freePort();
  const consumer = scenario.start("consumer");
  const gateway = scenario.start("gateway");
  const producer = scenario.start("producer", {
    INGEST_API_KEYS: key,
    SYSLOG_PORT: String(syslogPort),
    ...producerEnv,
  });
  const context = () => [producer, consumer, gateway].map((p) => p.tail(15)).join("\n");
  await scenario.consumerUp(consumer);
  const gatewayUrl = `http://127.0.0.1:${gateway.ports.gateway}/gateway/api/query`;
  const producerUrl = `http://127.0.0.1:${producer.ports.producer}`;
  await waitUntil(
    "gateway health",
    async () => (await fetch(`${gatewayUrl}/health`)).ok,
    60_000,
    250,
    context,
  );
  await waitUntil(
    "producer health",
    async () => (await fetch(`${producerUrl}/producer/api/logs/health`)).ok,
    60_000,
    250,
    context,
  );
  const eventsOf = async (source: string, count: number, timeoutMs = 60_000): Promise<FoundEvent[]> => {
    let found: FoundEvent[] = [];
    await waitUntil(
      `${count} events of source ${source} (found ${found.length})`,
      async () => {
        // The listing looks back 24 h unless told: shippers send events of any age.
        const res = await fetch(
          `${gatewayUrl}/logs?source=${encodeURIComponent(source)}&size=1000&startTime=2000-01-01T00:00:00Z`,
        );
        found = ((await res.json()) as { content: FoundEvent[] }).content;
        return found.length >= count;
      },
      timeoutMs,
      300,
      context,
    );
    return found;
  };
  return {
    scenario,
    key,
    producer,
    producerUrl,
    syslogPort,
    eventsOf,
    context,
    stop: () => scenario.cleanup(),
  };
};
