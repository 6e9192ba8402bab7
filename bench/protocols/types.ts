// What one protocol contributes to the protocols benchmark: how to turn batches into its requests and send them.

import type { LogEvent } from "../../src/domain/log-event.ts";

export interface ProtocolTarget {
  /** http://127.0.0.1:<producer port> */
  producerUrl: string;
  syslogPort: number;
}

export interface ProtocolSender {
  /** Sends batch i; resolves once the server answered for it (acknowledged protocols) or it was written. */
  send(i: number): Promise<void>;
  close?(): Promise<void>;
}

export interface ProtocolBench {
  /** The label in the results ("elasticsearch_bulk", "splunk_hec", …). */
  name: string;
  /** Goal as a ratio of the native batch API's events/s, where the issue sets one. */
  goal?: number;
  /** No acknowledgement (syslog): timed until the topic holds every event instead of until the answers. */
  unacked?: boolean;
  /** Encodes every batch ahead of the timed part (bodies built here cost nothing while timed). */
  prepare(batches: LogEvent[][], target: ProtocolTarget): Promise<ProtocolSender>;
}

/** POSTs prepared bodies and checks each answer with `ok`; a failed check fails that batch. */
export const poster =
  (
    url: string,
    bodies: string[],
    headers: Record<string, string>,
    ok: (status: number, body: string) => boolean,
  ) =>
  async (i: number): Promise<void> => {
    const body = bodies[i % bodies.length] ?? "";
    const res = await fetch(url, { method: "POST", headers, body });
    const text = await res.text();
    if (!ok(res.status, text)) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  };
