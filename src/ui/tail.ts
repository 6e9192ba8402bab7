// Live tail: streams new events from the SSE endpoint, with pause/resume that loses nothing and a rate.

import { type ApiError, apiUrl, authHeaders, errorOf, isAbort, type LogItem } from "./api.ts";
import { readSse, type SseMessage } from "./sse.ts";

export type TailStatus = "off" | "connecting" | "live" | "paused" | "error";

export interface TailHandlers {
  params(): Record<string, string | undefined>;
  onEvents(items: LogItem[]): void;
  onStatus(status: TailStatus, rate: number, buffered: number): void;
  onError(error: ApiError): void;
}

/** While paused, events are held up to this many; past it the stream closes and resumes by Last-Event-ID. */
const MAX_HELD = 5000;
const RATE_WINDOW_MS = 10_000;
const RETRY_MS = 2000;

export class LiveTail {
  private ctrl: AbortController | undefined;
  private lastId: string | undefined;
  private held: LogItem[] = [];
  private pending: LogItem[] = [];
  private arrivals: number[] = [];
  private status: TailStatus = "off";
  private paused = false;
  private since = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private flushing: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly on: TailHandlers) {}

  get running(): boolean {
    return this.status !== "off";
  }

  /** (Re)starts from now with the current filters. */
  start(): void {
    this.stop();
    this.lastId = undefined;
    this.paused = false;
    this.since = Date.now();
    this.set("connecting");
    this.ticker = setInterval(() => this.report(), 1000);
    void this.connect();
  }

  stop(): void {
    this.ctrl?.abort();
    this.ctrl = undefined;
    clearInterval(this.ticker);
    clearTimeout(this.flushing);
    this.flushing = undefined;
    this.held = [];
    this.pending = [];
    this.arrivals = [];
    this.set("off");
  }

  pause(): void {
    if (!this.running || this.paused) return;
    this.paused = true;
    this.set("paused");
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    if (held.length) this.on.onEvents(held);
    this.set(this.ctrl ? "live" : "connecting");
    if (!this.ctrl) void this.connect();
  }

  private async connect(): Promise<void> {
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    while (!ctrl.signal.aborted) {
      try {
        const res = await fetch(apiUrl("tail", this.on.params()), {
          headers: {
            Accept: "text/event-stream",
            ...authHeaders(),
            ...(this.lastId ? { "Last-Event-ID": this.lastId } : {}),
          },
          cache: "no-store",
          signal: ctrl.signal,
        });
        if (!res.ok || !res.body) {
          const error = await errorOf(res);
          this.on.onError(error);
          // A client error (bad filter, missing key) will not heal by retrying: stop and let the user act.
          if (res.status >= 400 && res.status < 500 && res.status !== 429) return this.stop();
          this.set("error");
        } else await readSse(res.body, (m) => this.receive(m));
      } catch (error) {
        if (isAbort(error)) return;
        // A dropped connection shows as "reconnecting…" beside the toggle, not as an error: it heals itself.
        this.set("error");
      }
      if (!ctrl.signal.aborted) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  private receive(m: SseMessage): void {
    if (m.event === "ready") {
      if (!this.paused) this.set("live");
      return;
    }
    if (m.event !== "message") return;
    const item = JSON.parse(m.data) as LogItem;
    if (m.id) this.lastId = m.id;
    this.arrivals.push(Date.now());
    if (this.paused) {
      this.held.push(item);
      if (this.held.length >= MAX_HELD) {
        this.ctrl?.abort();
        this.ctrl = undefined;
      }
      this.report();
      return;
    }
    this.pending.push(item);
    this.flushing ??= setTimeout(() => {
      this.flushing = undefined;
      const batch = this.pending;
      this.pending = [];
      this.on.onEvents(batch);
    }, 100);
  }

  /** Events per second over the last ten seconds (or since the start, when shorter). */
  private rate(): number {
    const now = Date.now();
    while (this.arrivals.length && (this.arrivals[0] ?? 0) < now - RATE_WINDOW_MS) this.arrivals.shift();
    const span = Math.min(RATE_WINDOW_MS, Math.max(1000, now - this.since));
    return (this.arrivals.length * 1000) / span;
  }

  private set(status: TailStatus): void {
    this.status = status;
    this.report();
  }

  private report(): void {
    this.on.onStatus(this.status, this.status === "off" ? 0 : this.rate(), this.held.length);
  }
}
