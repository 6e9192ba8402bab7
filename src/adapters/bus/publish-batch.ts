// The pieces CoalescingPublisher queues: a caller waiting on a publish, and a batch of callers sent together.

import type { LogEvent } from "../../domain/log-event.ts";

export type Outcome = { ok: true } | { ok: false; error: unknown };

export interface Caller {
  events: LogEvent[];
  /** Nobody waits for the answer (async ingest): the caller stays queued past the answer bound. */
  detached: boolean;
  /** Settles the caller's promise; only the first call counts (an answer bound may come before the send). */
  settle: (outcome: Outcome) => void;
}

export interface Batch {
  callers: Caller[];
  events: number;
  state: "open" | "queued" | "sending";
  lingered: boolean;
  lingerTimer: ReturnType<typeof setTimeout> | undefined;
  answerTimer: ReturnType<typeof setTimeout> | undefined;
}

export const caller = (
  events: LogEvent[],
  detached: boolean,
  resolve: () => void,
  reject: (error: unknown) => void,
): Caller => {
  let done = false;
  const settle = (outcome: Outcome): void => {
    if (done) return;
    done = true;
    if (outcome.ok) resolve();
    else reject(outcome.error);
  };
  return { events, detached, settle };
};

export const emptyBatch = (): Batch => ({
  callers: [],
  events: 0,
  state: "open",
  lingered: false,
  lingerTimer: undefined,
  answerTimer: undefined,
});

/** The events of every caller, in the order the callers joined. */
export const eventsOf = (batch: Batch): LogEvent[] => {
  const events: LogEvent[] = [];
  for (const c of batch.callers) for (const e of c.events) events.push(e);
  return events;
};
