// The end-to-end load: batches of fresh events posted to the producer, and the freshness probe that times an
// accepted event until the gateway finds it.

import { generateArray } from "./data.ts";

/** Events per posted batch. */
export const BATCH = 1000;

/**
 * Batch bodies from `distinct` templates of BATCH events. Each template's other fields are serialized once: a
 * body splices fresh ids and the current time in front of them, so these clients take little of the CPU the
 * pipeline is measured on. The probe is the id of the body's last event.
 */
export const batchBodies = (idPrefix: string, distinct: number): (() => { text: string; probe: string }) => {
  const templates = generateArray({ count: distinct * BATCH, seed: 61 }).map(
    ({ id: _, timestamp: __, ...rest }) => JSON.stringify(rest).slice(1),
  );
  let serial = 0;
  return () => {
    const now = Date.now();
    const base = (serial % distinct) * BATCH;
    const prefix = `${idPrefix}-${serial++}-`;
    const events: string[] = [];
    for (let k = 0; k < BATCH; k++)
      events.push(`{"id":"${prefix}${k}","timestamp":${now},${templates[base + k] as string}`);
    return { text: `[${events.join(",")}]`, probe: `${prefix}${BATCH - 1}` };
  };
};

/** Posts a body to the producer's `/batch` under `logsUrl`; the events it accepted. Throws unless it answers 200. */
export const postBatch = async (logsUrl: string, text: string): Promise<number> => {
  const r = await fetch(`${logsUrl}/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: text,
  });
  const j = (await r.json()) as { successCount?: number };
  if (r.status !== 200) throw new Error(`batch answered ${r.status}: ${JSON.stringify(j).slice(0, 200)}`);
  return j.successCount ?? 0;
};

/**
 * Freshness of one accepted event: polls `GET /logs/{id}` under the gateway's `queryUrl` every 20 ms, for up to
 * two minutes, and pushes the milliseconds from `since` to the first answer that finds it.
 */
export const probeFreshness = async (queryUrl: string, id: string, since: number, out: number[]) => {
  for (const until = Date.now() + 120_000; Date.now() < until; await Bun.sleep(20)) {
    const r = await fetch(`${queryUrl}/logs/${id}`);
    await r.text();
    if (r.status === 200) {
      out.push(performance.now() - since);
      return;
    }
  }
};
