// The soak's ledger: every id sent, every id a durable endpoint acknowledged (2xx), every id queued by the
// async endpoint (202), and the requests still to be resent, as a client that retries until 2xx keeps them.

export interface SoakEvent {
  id: string;
  level: string;
  source: string;
  message: string;
  metadata: { n: number; kind: string };
}

export type RequestKind = "single" | "async" | "json" | "ndjson" | "gzip-json" | "gzip-ndjson";

export interface LedgerCounts {
  requests: number;
  /** Events in durable requests, first sends and resends alike. */
  sentDurable: number;
  acknowledged: number;
  asyncAccepted: number;
  /** Events answered 503 (the bus or the store unavailable: the client resends them). */
  rejected503: number;
  /** Events whose request found no server, or got no answer in time (a role restarting). */
  unanswered: number;
  /** Durable events sent again: those never acknowledged, and some already acknowledged. */
  resentUnacked: number;
  resentAcked: number;
  unexpected: Record<string, number>;
  /** What the 503 answers said, by message. */
  reasons503: Record<string, number>;
  byKind: Record<string, number>;
}

const LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"] as const;
const RECENT = 500;

export class Ledger {
  /** Every id sent, durable or async: a stored id outside this set was never sent. */
  readonly sent = new Set<string>();
  readonly acked = new Set<string>();
  readonly asyncIds = new Set<string>();
  /** Requests that got no 2xx: resent (with the same ids) until they do. */
  readonly unresolved: SoakEvent[][] = [];
  /** Acknowledged requests kept for resending: each resend must not add a row. */
  private readonly recent: SoakEvent[][] = [];
  private n = 0;
  private open = 0;
  inFlight = 0;
  readonly counts: LedgerCounts = {
    requests: 0,
    sentDurable: 0,
    acknowledged: 0,
    asyncAccepted: 0,
    rejected503: 0,
    unanswered: 0,
    resentUnacked: 0,
    resentAcked: 0,
    unexpected: {},
    reasons503: {},
    byKind: {},
  };

  constructor(readonly tag: string) {}

  /** Fresh events with ids of this run; `sources` spread them over the Kafka partitions (keyed by source). */
  fresh(count: number, kind: RequestKind): SoakEvent[] {
    return Array.from({ length: count }, () => {
      const n = this.n++;
      const id = `${this.tag}-${n.toString(36)}`;
      this.sent.add(id);
      return {
        id,
        level: LEVELS[n % LEVELS.length] ?? "INFO",
        source: `soak-${n % 12}`,
        message: `soak event ${n} via ${kind} word${n % 97}`,
        metadata: { n, kind },
      };
    });
  }

  /** A request to resend: a failed one first (the client retries it), else now and then an acknowledged one. */
  resend(random: () => number): SoakEvent[] | undefined {
    const failed = this.takeUnresolved();
    if (failed) return failed;
    if (this.recent.length === 0) return undefined;
    const again = this.recent[Math.floor(random() * this.recent.length)];
    if (again) this.counts.resentAcked += again.length;
    return again;
  }

  /** The oldest request without a 2xx, taken out of the queue to be resent. */
  takeUnresolved(): SoakEvent[] | undefined {
    const failed = this.unresolved.shift();
    if (failed) {
      this.open -= failed.length;
      this.counts.resentUnacked += failed.length;
    }
    return failed;
  }

  sending(kind: RequestKind, events: SoakEvent[]): void {
    this.counts.requests++;
    this.counts.byKind[kind] = (this.counts.byKind[kind] ?? 0) + 1;
    if (kind !== "async") this.counts.sentDurable += events.length;
  }

  /** A durable request answered 2xx with these ids. */
  acknowledged(events: SoakEvent[], ids: string[]): void {
    const mine = new Set(events.map((e) => e.id));
    for (const id of ids) {
      if (!mine.has(id)) this.bump(`acknowledged an id not in the request: ${id}`);
      this.acked.add(id);
    }
    if (ids.length !== events.length) this.bump(`acknowledged ${ids.length} of ${events.length}`);
    this.counts.acknowledged = this.acked.size;
    this.recent.push(events);
    if (this.recent.length > RECENT) this.recent.shift();
  }

  /** An id acknowledged lately, for the gateway reads along the way. */
  sampleAcked(random: () => number): string | undefined {
    const batch = this.recent[Math.floor(random() * this.recent.length)];
    return batch?.[Math.floor(random() * batch.length)]?.id;
  }

  asyncAccepted(id: string): void {
    this.asyncIds.add(id);
    this.counts.asyncAccepted++;
  }

  /** No 2xx: the request goes back in the queue, as a client would retry it. */
  failed(events: SoakEvent[], why: "503" | "unanswered"): void {
    if (why === "503") this.counts.rejected503 += events.length;
    else this.counts.unanswered += events.length;
    // Acknowledged events resent and then refused stay acknowledged: nothing more to do for them.
    const open = events.filter((e) => !this.acked.has(e.id));
    if (open.length) this.unresolved.push(open);
    this.open += open.length;
  }

  bump(what: string): void {
    this.counts.unexpected[what] = (this.counts.unexpected[what] ?? 0) + 1;
  }

  /** Ids sent durably that never got a 2xx (0 once the final resends all succeeded). */
  pending(): number {
    return this.open;
  }
}
