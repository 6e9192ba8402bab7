// Where parsed syslog messages wait for the bus: batches published in order, retried until the bus takes them.

import type { Doc } from "../domain/ingest/fields.ts";
import { storableCut } from "../domain/ingest/fields.ts";
import type { Logger } from "../observability/logger.ts";
import type { Ingest } from "../services/ingest.ts";

export interface SyslogItem {
  line: string;
  event: Doc;
}

/**
 * One sender's queue. While a batch is on its way, `busy(true)` lets a TCP connection stop reading (the
 * sender's own buffers then hold what follows: backpressure instead of loss); `busy(false)` resumes it.
 * A bus failure is retried with backoff until it succeeds or the listener stops.
 */
export class SyslogSink {
  private pending: SyslogItem[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly ingest: Ingest,
    private readonly logger: Logger,
    private readonly stopped: () => boolean,
    private readonly busy: (on: boolean) => void = () => {},
  ) {}

  get size(): number {
    return this.pending.length;
  }

  add(items: SyslogItem[]): void {
    for (const item of items) this.pending.push(item);
    if (!this.running && this.pending.length) this.running = this.run();
  }

  /** Resolves when everything added so far was published (or the listener stopped). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    this.busy(true);
    try {
      const size = Math.max(1, Math.min(1000, this.ingest.settings.maxBatchEvents));
      while (this.pending.length && !this.stopped()) await this.publish(this.pending.splice(0, size));
    } finally {
      this.running = undefined;
      this.busy(false);
    }
  }

  private async publish(batch: SyslogItem[]): Promise<void> {
    let fellBack = false;
    for (let attempt = 0; !this.stopped(); attempt++) {
      try {
        const outcome = await this.ingest.batch(
          batch.map((b) => b.event),
          { allErrors: true },
        );
        if (outcome.failureCount === 0) return;
        if (fellBack) {
          this.logger.error("syslog: raw messages refused; dropped", { errors: outcome.errors.slice(0, 3) });
          return;
        }
        fellBack = true;
        // A message the schema refuses (metadata too large or deep) is kept whole as a raw message instead.
        const refused = new Set(outcome.errors.map((e) => e.index));
        batch = [...refused].flatMap((i) => {
          const item = batch[i];
          return item
            ? [{ line: item.line, event: raw(item.line, this.ingest.settings.limits.maxMessageBytes) }]
            : [];
        });
        if (batch.length === 0) return;
      } catch (error) {
        this.logger.warn("syslog: the bus refused a batch; retrying", {
          error,
          events: batch.length,
          attempt,
        });
        await Bun.sleep(Math.min(250 * 2 ** attempt, 5000));
      }
    }
  }
}

const raw = (line: string, maxBytes: number): Doc => ({
  level: "INFO",
  message: storableCut(line === "" ? "(empty syslog message)" : line, maxBytes),
  source: "syslog",
  metadata: { malformed: true },
});
