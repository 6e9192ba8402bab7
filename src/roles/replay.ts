// Replay: rebuilds the read model in a schema of its own from the topic, reports progress, stops when caught up.

import type { Config } from "../config/load.ts";
import type { Logger } from "../observability/logger.ts";
import { createMetrics } from "../observability/metrics.ts";
import { createStack } from "./adapters.ts";
import { startConsumer } from "./consumer.ts";

export interface ReplayProgressSource {
  progress(): { consumed: number; done: boolean; end: Map<number, string>; positions: Map<number, string> };
}

const hasProgress = (x: unknown): x is ReplayProgressSource =>
  typeof x === "object" && x !== null && typeof (x as { progress?: unknown }).progress === "function";

export const runReplay = async (
  config: Config,
  logger: Logger,
  opts: { from: "earliest" | number; schema: string; reportEveryMs?: number },
): Promise<void> => {
  const stack = createStack(config, logger, createMetrics(), {
    replay: { from: opts.from, schema: opts.schema },
  });
  await stack.migrate();
  const started = Date.now();
  const consumer = await startConsumer(config, {
    ...stack,
    metrics: undefined,
    logger: logger.child({ role: "replay" }),
    http: false,
  });
  const source = stack.subscriber;
  if (!hasProgress(source)) throw new Error("replay needs the Kafka bus");
  const total = () => {
    const p = source.progress();
    let remaining = 0n;
    for (const [partition, end] of p.end)
      remaining += BigInt(end) - BigInt(p.positions.get(partition) ?? "0");
    return { ...p, remaining: remaining < 0n ? 0n : remaining };
  };
  for (;;) {
    await Bun.sleep(opts.reportEveryMs ?? 2000);
    const p = total();
    const seconds = (Date.now() - started) / 1000;
    logger.info("replay progress", {
      schema: opts.schema,
      consumed: p.consumed,
      remaining: Number(p.remaining),
      eventsPerSecond: Math.round(p.consumed / Math.max(seconds, 0.001)),
    });
    if (p.done) break;
  }
  await consumer.stop();
  await stack.reader.stop();
  logger.info("replay complete", { schema: opts.schema, seconds: (Date.now() - started) / 1000 });
};
