// Offset arithmetic through the admin API: consumer lag per partition and the start/end offsets of a replay.

import type { Admin } from "kafkajs";
import { withDeadline } from "./timing.ts";

export type ReplayFrom = "earliest" | number;

export interface ReplayPlan {
  /** Where the replay group starts, per partition. */
  start: Map<number, string>;
  /** The head of each partition when the replay began: reaching it everywhere means done. */
  end: Map<number, string>;
}

/** Messages behind the head per partition: high watermark − committed offset (or − low watermark if none). */
export const groupLag = async (
  admin: Admin,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> => {
  const [heads, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const done = new Map<number, bigint>();
  for (const p of committed.find((t) => t.topic === topic)?.partitions ?? []) {
    const offset = BigInt(p.offset);
    if (offset >= 0n) done.set(p.partition, offset);
  }
  const lag = new Map<number, number>();
  for (const h of heads) {
    const high = BigInt(h.high);
    const from = done.get(h.partition) ?? BigInt(h.low);
    lag.set(h.partition, Number(high > from ? high - from : 0n));
  }
  return lag;
};

/**
 * Positions a fresh replay group before it joins (the group must have no members): at the low watermarks for
 * "earliest", or at the first offset stamped at/after the given epoch ms (the head where there is none).
 */
export const prepareReplay = async (
  admin: Admin,
  groupId: string,
  topic: string,
  from: ReplayFrom,
): Promise<ReplayPlan> => {
  const heads = await admin.fetchTopicOffsets(topic);
  const end = new Map(heads.map((h) => [h.partition, h.high]));
  const start =
    from === "earliest"
      ? new Map(heads.map((h) => [h.partition, h.low]))
      : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, from)).map((e) => [e.partition, e.offset]));
  await admin.setOffsets({
    groupId,
    topic,
    partitions: [...start].map(([partition, offset]) => ({ partition, offset })),
  });
  return { start, end };
};

/** lag() is asked on every metrics scrape: one bounded pair of admin requests per ttl answers them all. */
export const createLagReader = (
  admin: Admin,
  groupId: string,
  topic: string,
  ttlMs: number,
  timeoutMs: number,
) => {
  let cached: { at: number; value: Promise<Map<number, number>> } | undefined;
  return (): Promise<Map<number, number>> => {
    const now = Date.now();
    if (cached && now - cached.at < ttlMs) return cached.value;
    const lag = admin.connect().then(() => groupLag(admin, groupId, topic));
    const entry = { at: now, value: withDeadline(lag, timeoutMs, "kafka lag request timed out") };
    cached = entry;
    entry.value.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return entry.value;
  };
};

export interface ReplayProgress {
  /** Records handled (handler resolved) since run(). */
  consumed: number;
  /** Next offset to handle, per partition seen. */
  positions: Map<number, string>;
  /** For a replay: the head of each partition when it began (empty otherwise). */
  end: Map<number, string>;
  /** A replay has reached every end offset. */
  done: boolean;
}

export const replayProgress = (
  plan: ReplayPlan | undefined,
  positions: Map<number, string>,
  consumed: number,
): ReplayProgress => {
  const end = plan?.end ?? new Map<number, string>();
  const position = (p: number) => BigInt(positions.get(p) ?? plan?.start.get(p) ?? "0");
  const done = plan !== undefined && [...end].every(([p, e]) => position(p) >= BigInt(e));
  return { consumed, positions: new Map(positions), end: new Map(end), done };
};
