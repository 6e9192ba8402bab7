// HTTP load for the fault tests: ingest batches with client-chosen ids and gateway queries, every request bounded.

import { uuidv7 } from "uuidv7";

/** What the ingest clients saw. A request past the client timeout is a hang, never a rejection. */
export interface IngestTally {
  requests: number;
  /** Events sent in requests that got any answer or none. */
  sent: number;
  /** Ids answered 2xx: each of them must end up stored. */
  acked: string[];
  /** Events answered 503. */
  rejected: number;
  /** Events whose request found no server (connection refused/reset: the process had stopped). */
  unreachable: number;
  /** Requests that got no answer within the client timeout. */
  hangs: number;
  /** Any other status or error, by name: none are expected. */
  unexpected: Record<string, number>;
  /** The slowest 503 answer, ms (reported, not asserted). */
  slowest503Ms: number;
}

export interface Load<T> {
  /** Stops the clients and resolves with the tally once every request in flight has settled. */
  stop(): Promise<T>;
  readonly tally: T;
}

const isTimeout = (error: unknown): boolean =>
  error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");

/** `concurrency` clients posting batches of `batch` events to the producer's batch API until stopped. */
export const ingestLoad = (
  port: number,
  opts: { concurrency?: number; batch?: number; timeoutMs?: number; pauseMs?: number; prefix?: string } = {},
): Load<IngestTally> => {
  const tally: IngestTally = {
    requests: 0,
    sent: 0,
    acked: [],
    rejected: 0,
    unreachable: 0,
    hangs: 0,
    unexpected: {},
    slowest503Ms: 0,
  };
  const batch = opts.batch ?? 50;
  const prefix = opts.prefix ?? "load";
  let stopped = false;
  let n = 0;
  const bump = (key: string) => {
    tally.unexpected[key] = (tally.unexpected[key] ?? 0) + 1;
  };
  const client = async (c: number): Promise<void> => {
    while (!stopped) {
      const ids = Array.from({ length: batch }, () => uuidv7());
      const body = ids.map((id) => ({
        id,
        level: "INFO",
        message: `${prefix} client ${c} event ${n++}`,
        source: `${prefix}-${c}`,
        metadata: { client: c },
      }));
      tally.requests++;
      tally.sent += batch;
      const started = Date.now();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/producer/api/logs/batch`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        const text = await res.text();
        if (res.status === 200) {
          const out = JSON.parse(text) as { successCount: number; logIds: string[] };
          if (out.successCount !== batch) bump(`partial ${out.successCount}/${batch}`);
          tally.acked.push(...out.logIds);
        } else if (res.status === 503) {
          tally.rejected += batch;
          tally.slowest503Ms = Math.max(tally.slowest503Ms, Date.now() - started);
        } else bump(`status ${res.status}`);
      } catch (error) {
        if (isTimeout(error)) tally.hangs++;
        else if (
          error instanceof Error &&
          /connect|ECONNRE|socket|closed/i.test(`${error.name} ${error.message}`)
        ) {
          tally.unreachable += batch;
          await Bun.sleep(50);
        } else bump(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
      if (opts.pauseMs) await Bun.sleep(opts.pauseMs);
    }
  };
  const clients = Array.from({ length: opts.concurrency ?? 4 }, (_, c) => client(c));
  return {
    tally,
    stop: async () => {
      stopped = true;
      await Promise.all(clients);
      return tally;
    },
  };
};

export interface QueryTally {
  requests: number;
  ok: number;
  unreachable: number;
  hangs: number;
  unexpected: Record<string, number>;
}

/** Clients asking the gateway the given paths in turn until stopped. */
export const queryLoad = (
  port: number,
  paths: string[],
  opts: { concurrency?: number; timeoutMs?: number; pauseMs?: number } = {},
): Load<QueryTally> => {
  const tally: QueryTally = { requests: 0, ok: 0, unreachable: 0, hangs: 0, unexpected: {} };
  let stopped = false;
  const client = async (c: number): Promise<void> => {
    for (let i = c; !stopped; i++) {
      tally.requests++;
      try {
        const res = await fetch(`http://127.0.0.1:${port}${paths[i % paths.length]}`, {
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        await res.arrayBuffer();
        if (res.status === 200) tally.ok++;
        else tally.unexpected[`status ${res.status}`] = (tally.unexpected[`status ${res.status}`] ?? 0) + 1;
      } catch (error) {
        if (isTimeout(error)) tally.hangs++;
        else {
          tally.unreachable++;
          await Bun.sleep(50);
        }
      }
      if (opts.pauseMs) await Bun.sleep(opts.pauseMs);
    }
  };
  const clients = Array.from({ length: opts.concurrency ?? 2 }, (_, c) => client(c));
  return {
    tally,
    stop: async () => {
      stopped = true;
      await Promise.all(clients);
      return tally;
    },
  };
};

/** One line per test with its counts, for the report. */
export const report = (name: string, counts: Record<string, unknown>): void => {
  console.log(`[faults] ${name}: ${JSON.stringify(counts)}`);
};
