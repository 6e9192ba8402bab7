// Fault-test events: uniquely identifiable events, written straight into a topic in the wire format.

import { type Kafka, Partitioners, type RecordMetadata } from "kafkajs";
import { uuidv7 } from "uuidv7";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { encodeEvent } from "../../src/domain/wire.ts";

const LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"] as const;

/** Events with unique ids and a `seq` in metadata (0..n-1), so every one can be accounted for. */
export const makeEvents = (n: number, prefix = "fault", sources = 8, from = 0): LogEvent[] => {
  const now = Date.now();
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return {
      id: uuidv7(),
      level: LEVELS[i % LEVELS.length] ?? "INFO",
      message: `${prefix} event ${i} word${i % 50}`,
      source: `${prefix}-src-${i % sources}`,
      timestamp: now - (n - k),
      metadata: { seq: i },
    };
  });
};

/** Publishes events in the wire format straight to the topic (keyed by source, like the producer). */
export const produceEvents = async (
  kafka: Kafka,
  topic: string,
  events: LogEvent[],
  opts: { chunk?: number; concurrency?: number } = {},
): Promise<void> => {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const chunk = opts.chunk ?? 2000;
    const chunks: LogEvent[][] = [];
    for (let i = 0; i < events.length; i += chunk) chunks.push(events.slice(i, i + chunk));
    const worker = async () => {
      for (let c = chunks.shift(); c; c = chunks.shift())
        await producer.send({
          topic,
          acks: -1,
          messages: c.map((e) => ({ key: e.source, value: encodeEvent(e) })),
        });
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 3 }, worker));
  } finally {
    await producer.disconnect();
  }
};

/**
 * A steady flow of makeEvents-style events (seq from 0 up) straight into the topic until stop(), which
 * resolves with how many the broker acknowledged (acks=all). A send that fails stops the flow: it is a test bug.
 */
export const streamEvents = (
  kafka: Kafka,
  topic: string,
  prefix: string,
  perTick: number,
  everyMs: number,
): { stop(): Promise<number> } => {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  let stopped = false;
  let sent = 0;
  const run = (async () => {
    await producer.connect();
    try {
      while (!stopped) {
        const events = makeEvents(perTick, prefix, 8, sent);
        await producer.send({
          topic,
          acks: -1,
          messages: events.map((e) => ({ key: e.source, value: encodeEvent(e) })),
        });
        sent += perTick;
        await Bun.sleep(everyMs);
      }
    } finally {
      await producer.disconnect();
    }
  })();
  run.catch(() => {}); // reported by stop()
  return {
    stop: async () => {
      stopped = true;
      await run;
      return sent;
    },
  };
};

/** Raw messages to one partition, in order; returns the offsets they got. */
export const produceRaw = async (
  kafka: Kafka,
  topic: string,
  partition: number,
  values: (string | Buffer)[],
): Promise<string[]> => {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const offsets: string[] = [];
    for (const value of values) {
      const [meta] = (await producer.send({
        topic,
        acks: -1,
        messages: [{ key: "poison", value, partition }],
      })) as RecordMetadata[];
      offsets.push(meta?.baseOffset ?? "?");
    }
    return offsets;
  } finally {
    await producer.disconnect();
  }
};
