// A cheap, cached broker check for health(): topic metadata through an admin client, bounded and deduplicated.

import type { Admin } from "kafkajs";
import type { Health } from "../../../ports/log-bus.ts";
import { errorMessage, withDeadline } from "./timing.ts";
import { topicPartitionCount } from "./topics.ts";

export type HealthProbe = () => Promise<Health>;

/** Health checks arrive from every scrape and probe; one metadata request per ttl answers them all. */
export const createHealthProbe = (
  admin: Admin,
  topic: string,
  timeoutMs: number,
  ttlMs = 1000,
): HealthProbe => {
  let cached: { at: number; result: Promise<Health> } | undefined;
  const check = async (): Promise<Health> => {
    await admin.connect();
    const partitions = await topicPartitionCount(admin, topic);
    if (partitions === 0) return { ok: false, detail: `topic ${topic} not found` };
    return { ok: true, detail: `topic ${topic}, ${partitions} partitions` };
  };
  return () => {
    const now = Date.now();
    if (cached && now - cached.at < ttlMs) return cached.result;
    const result = withDeadline(check(), timeoutMs, "metadata request timed out").catch(
      (error): Health => ({ ok: false, detail: `kafka: ${errorMessage(error)}` }),
    );
    cached = { at: now, result };
    return result;
  };
};
