// Process warnings reach the structured log; kafkajs's harmless negative timeout does not.

import { afterEach, expect, test } from "bun:test";
import type { Logger } from "../../src/observability/logger.ts";
import { logWarnings } from "../../src/observability/warnings.ts";

const saved = process.listeners("warning");
afterEach(() => {
  process.removeAllListeners("warning");
  for (const l of saved) process.on("warning", l);
});

test("warnings are logged as warnings, except a negative timeout, and nothing is printed raw", async () => {
  const logged: [string, Record<string, unknown> | undefined][] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message, fields) => void logged.push([message, fields]),
    error: () => {},
    child: () => logger,
  };
  logWarnings(logger);
  expect(process.listenerCount("warning")).toBe(1);
  setTimeout(() => {}, -1_796_608_585_704);
  process.emitWarning("the old way is going away", "DeprecationWarning");
  await Bun.sleep(20);
  expect(logged).toEqual([
    ["process warning", { name: "DeprecationWarning", warning: "the old way is going away" }],
  ]);
});
