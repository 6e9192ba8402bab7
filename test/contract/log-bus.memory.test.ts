// Runs the LogBus contract against the in-process MemoryBus of embedded mode.

import { MemoryBus } from "../../src/adapters/bus/memory.ts";
import { uniqueName } from "../helpers/services.ts";
import { logBusContract } from "./log-bus.contract.ts";

logBusContract("memory", async () => {
  const bus = new MemoryBus({ topic: uniqueName("memory"), retryDelayMs: 20 });
  return {
    publisher: bus,
    subscriber: bus,
    cleanup: () => bus.stop(),
    readDeadLetters: async () =>
      bus.deadLetters.map((l) => ({
        topic: l.topic,
        key: l.record.key,
        value: l.record.value,
        reason: l.reason,
        error: l.error,
        partition: l.record.partition,
        offset: l.record.offset,
      })),
  };
});
