// The async endpoint's background sends: bounded in number, retried by the given publish, given up counted.

import { overloaded } from "../domain/errors.ts";
import type { LogEvent } from "../domain/log-event.ts";

export interface AsyncSenderDeps {
  /** Publishes in the background (the producer role retries with backoff); rejects once the events are given up. */
  publish: (events: LogEvent[], signal: AbortSignal) => Promise<void>;
  /** Most events awaiting the bus, retries included; past it send() refuses with 503. */
  maxPending: number;
  onStored?: (count: number) => void;
  /** Called once per event given up (every retry failed, or a drain ran out of time), with the reason. */
  onGiveUp?: (error: unknown, events: LogEvent[]) => void;
  /** Called with the number of events awaiting the bus whenever it changes. */
  onPending?: (count: number) => void;
}

interface Entry {
  events: LogEvent[];
  /** drain() stopped waiting for it and already reported it as given up. */
  abandoned: boolean;
}

export const createAsyncSender = (deps: AsyncSenderDeps) => {
  const pending = new Map<Promise<void>, Entry>();
  /** Aborted when drain() stops waiting: retries still in progress end after their current try. */
  const stopping = new AbortController();

  const giveUp = (error: unknown, entries: Entry[]): void => {
    const events = entries.flatMap((e) => e.events);
    if (events.length) deps.onGiveUp?.(error, events);
  };

  return {
    /** Takes the events for a background publish, or refuses them when too many are waiting already. */
    send(events: LogEvent[]): void {
      if (pending.size >= deps.maxPending)
        throw overloaded("too many /ingest/async events are waiting for the log bus; retry later");
      const entry: Entry = { events, abandoned: false };
      const sending: Promise<void> = deps
        .publish(events, stopping.signal)
        .then(
          () => deps.onStored?.(events.length),
          (error: unknown) => {
            if (!entry.abandoned) giveUp(error, [entry]);
          },
        )
        .finally(() => {
          pending.delete(sending);
          deps.onPending?.(pending.size);
        });
      pending.set(sending, entry);
      deps.onPending?.(pending.size);
    },

    /**
     * Resolves once every event taken so far is on the bus or given up (retries are bounded), or after
     * deadlineMs: the events still waiting then are given up (reported once) and their retries stop after the
     * try in progress.
     */
    async drain(deadlineMs = Number.POSITIVE_INFINITY): Promise<void> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<false>((resolve) => {
        if (Number.isFinite(deadlineMs)) timer = setTimeout(() => resolve(false), deadlineMs);
      });
      const settled = (async () => {
        while (pending.size > 0) await Promise.all(pending.keys());
        return true;
      })();
      const done = await Promise.race([settled, expired]);
      clearTimeout(timer);
      if (done) return;
      stopping.abort();
      const left = [...pending.values()].filter((e) => !e.abandoned);
      for (const e of left) e.abandoned = true;
      giveUp(new Error(`the producer is stopping: not on the bus within ${deadlineMs} ms`), left);
    },
  };
};
