// The producer app in process over a scripted bus: what route tests drive with app.request.

import { loadConfig } from "../../src/config/load.ts";
import { silentLogger } from "../../src/observability/logger.ts";
import { buildProducerApp } from "../../src/roles/producer.ts";
import { ScriptedPublisher, testMetrics } from "./bus-doubles.ts";

/** The producer app configured by `env`, its bus answering as `mode`, with a breaker that never opens. */
export const scriptedProducer = (env: Record<string, string>, mode: ScriptedPublisher["mode"] = "ok") => {
  const publisher = new ScriptedPublisher();
  publisher.mode = mode;
  const metrics = testMetrics();
  const app = buildProducerApp(loadConfig(env), {
    publisher,
    metrics,
    logger: silentLogger,
    guard: { failureThreshold: 1000 },
  });
  return { app, publisher, metrics };
};
