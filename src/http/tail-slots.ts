// Live-tail admission: a bound on open streams in total and per client, checked before a stream opens.

import { DomainError } from "../domain/errors.ts";

export interface TailLimits {
  /** Open streams over all clients. */
  total: number;
  /** Open streams of one client (its API key, else its address). */
  perClient: number;
}

/** Seconds a refused client is told to wait: streams are long-lived, a slot frees when one ends. */
const RETRY_AFTER_S = 5;

/** A refusal, by the bound that refused: over all clients, or the client's own. */
export type TailRefusal = "tail_total" | "tail_client";

export const createTailSlots = (limits: TailLimits, refused?: (scope: TailRefusal) => void) => {
  let open = 0;
  /** client → its open streams; keyed by client text, so a Map. */
  const byClient = new Map<string, number>();

  return {
    /** Takes a slot for `client`, or throws 429; the returned release is safe to call more than once. */
    acquire(client: string): () => void {
      if (open >= limits.total) {
        refused?.("tail_total");
        throw new DomainError(
          "rate_limited",
          `too many live tails are open on this gateway (MAX_TAIL_STREAMS=${limits.total}); retry later`,
          { retryAfter: RETRY_AFTER_S },
        );
      }
      const mine = byClient.get(client) ?? 0;
      if (mine >= limits.perClient) {
        refused?.("tail_client");
        throw new DomainError(
          "rate_limited",
          `this client already has ${mine} live tails open (MAX_TAIL_STREAMS_PER_CLIENT=${limits.perClient}); close one or retry later`,
          { retryAfter: RETRY_AFTER_S },
        );
      }
      open++;
      byClient.set(client, mine + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
        const left = (byClient.get(client) ?? 1) - 1;
        if (left > 0) byClient.set(client, left);
        else byClient.delete(client);
      };
    },
    open: (): number => open,
  };
};

export type TailSlots = ReturnType<typeof createTailSlots>;
