// Process warnings go to the structured log (one JSON line each, like everything else) instead of raw stderr.

import type { Logger } from "./logger.ts";

/**
 * Replaces the runtime's warning printer. One warning is dropped: kafkajs schedules its request queue's next
 * check at `throttledUntil - now`, a negative delay whenever no broker throttles it, which the runtime
 * clamps to 1 ms, as kafkajs expects, and warns about on every connection.
 */
export const logWarnings = (logger: Logger): void => {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name === "TimeoutNegativeWarning") return;
    logger.warn("process warning", { name: warning.name, warning: warning.message });
  });
};
