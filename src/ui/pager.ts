// Infinite scroll by cursor: when the end of the table comes into view, the next page is fetched.

import type { Page } from "./api.ts";

const AHEAD_PX = 600;

/** The cursor of the page after `page`, or undefined at the end (older servers send null, newer set `last`). */
export const nextCursorOf = (page: Page): string | undefined =>
  page.last || page.content.length === 0 ? undefined : (page.nextCursor ?? undefined);

export class Pager {
  private next: string | undefined;
  private signal: AbortSignal | undefined;
  private busy = false;

  constructor(
    private readonly sentinel: HTMLElement,
    private readonly load: (cursor: string, signal: AbortSignal) => Promise<Page>,
    private readonly onPage: (page: Page) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && void this.more(), {
      rootMargin: `${AHEAD_PX}px`,
    }).observe(sentinel);
  }

  get loading(): boolean {
    return this.busy;
  }

  get hasMore(): boolean {
    return this.next !== undefined;
  }

  /** Starts over after a new first page; `signal` ends with the query it belongs to. */
  reset(first: Page, signal: AbortSignal): void {
    this.next = nextCursorOf(first);
    this.signal = signal;
    this.check();
  }

  private async more(): Promise<void> {
    const cursor = this.next;
    const signal = this.signal;
    if (!cursor || !signal || signal.aborted || this.busy) return;
    this.busy = true;
    try {
      const page = await this.load(cursor, signal);
      if (signal !== this.signal) return;
      this.next = nextCursorOf(page);
      this.busy = false;
      this.onPage(page);
    } catch (error) {
      if (signal === this.signal) this.next = undefined;
      this.onError(error);
    } finally {
      this.busy = false;
    }
    this.check();
  }

  /** An observer fires on changes only: a sentinel still in view after a page needs another look. */
  private check(): void {
    if (this.next && this.sentinel.getBoundingClientRect().top < innerHeight + AHEAD_PX) void this.more();
  }
}
