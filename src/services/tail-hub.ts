// Live tails shared by filter: one poller per distinct filter reads the store once per interval and fans out.
//
// A poller (group) keeps the arrival position it has read up to. A subscriber at or past that position is
// live: the group's reads are queued to it. A subscriber behind it (resumed from an older Last-Event-ID, or
// one whose socket fell behind) reads on its own, in bounded pages with a pause between them, and joins the
// group at the moment its position reaches the group's: both checks run between awaits, so nothing is read
// twice or skipped. Reads walk arrival order in windows of at most `seqWindow` seqs: a window answered short
// of the page size was examined whole, so the position moves to its end even when nothing in it matched.

import type { Level } from "../domain/level.ts";
import type { SearchTerms } from "../domain/search-syntax.ts";
import type { LogReader } from "../ports/log-store.ts";
import { frameOf, type TailFrame, TailSubscriber } from "./tail-subscriber.ts";

export interface TailFilter {
  levels: Level[];
  sources: string[];
  terms?: SearchTerms;
}

export interface TailHubOptions {
  reader: LogReader;
  /** The store's watermark, shared by every poller (may be reused briefly). */
  watermark: () => Promise<number>;
  pollMs?: number;
  /** Pause between two pages of a read that is behind (a catch-up, or a poller behind a burst). */
  pauseMs?: number;
  /** Events per store read. */
  pageSize?: number;
  /** Most arrival seqs one store read covers: bounds the rows a text filter examines. */
  seqWindow?: number;
  /** Called with the number of distinct pollers whenever it changes. */
  onPollers?: (count: number) => void;
}

interface Group {
  filter: TailFilter;
  seq: number;
  live: Set<TailSubscriber>;
  catching: Set<TailSubscriber>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const filterKey = (f: TailFilter): string =>
  JSON.stringify([f.levels.toSorted(), f.sources.toSorted(), f.terms ?? null]);

export const createTailHub = (opts: TailHubOptions) => {
  const pollMs = opts.pollMs ?? 250;
  const pauseMs = opts.pauseMs ?? 50;
  const pageSize = opts.pageSize ?? 500;
  const seqWindow = opts.seqWindow ?? 10_000;
  /** A live subscriber with this many frames unsent leaves the group and reads on its own again. */
  const maxQueued = pageSize * 4;
  const groups = new Map<string, Group>();

  /** One bounded read after `afterSeq`, up to `limit` (a watermark): the frames, and the position reached. */
  const readPage = async (
    f: TailFilter,
    afterSeq: number,
    limit: number,
  ): Promise<{ frames: TailFrame[]; upTo: number }> => {
    const until = Math.min(limit, afterSeq + seqWindow);
    const events = await opts.reader.tail({ afterSeq, untilSeq: until, ...f, limit: pageSize });
    const frames: TailFrame[] = [];
    let upTo = afterSeq;
    for (const e of events) {
      // A reader that ignored a bound must not make us skip or repeat anything.
      if (e.seq <= upTo || e.seq > until) continue;
      frames.push(frameOf(e));
      upTo = e.seq;
    }
    return { frames, upTo: events.length < pageSize ? until : upTo };
  };

  const drop = (key: string, g: Group): void => {
    if (g.live.size || g.catching.size || groups.get(key) !== g) return;
    clearTimeout(g.timer);
    groups.delete(key);
    opts.onPollers?.(groups.size);
  };

  const poll = async (key: string, g: Group): Promise<void> => {
    g.timer = undefined;
    for (const s of g.live) if (s.closed) g.live.delete(s);
    if (!g.live.size && !g.catching.size) return drop(key, g);
    let behind = false;
    try {
      const w = await opts.watermark();
      if (w > g.seq) {
        const { frames, upTo } = await readPage(g.filter, g.seq, w);
        g.seq = upTo;
        for (const s of g.live) {
          s.push(frames, upTo);
          if (s.queued >= maxQueued) {
            g.live.delete(s);
            void catchUp(key, g, s);
          }
        }
        behind = upTo < w;
      }
    } catch (error) {
      for (const s of g.live) s.fail(error);
      g.live.clear();
    }
    if (groups.get(key) === g) g.timer = setTimeout(() => void poll(key, g), behind ? pauseMs : pollMs);
  };

  /** Reads for one subscriber until it reaches the group's position, then makes it live. */
  const catchUp = async (key: string, g: Group, s: TailSubscriber): Promise<void> => {
    g.catching.add(s);
    try {
      while (!s.closed) {
        // Back-pressure first: a subscriber whose socket fell behind reads again only once it drained.
        await s.roomFor(pageSize);
        if (s.closed || s.afterSeq >= g.seq) break;
        const { frames, upTo } = await readPage(g.filter, s.afterSeq, g.seq);
        s.push(frames, upTo);
        if (s.afterSeq < g.seq) await pause(pauseMs);
      }
      // Same turn as the check above: the group cannot have moved in between.
      if (!s.closed) g.live.add(s);
    } catch (error) {
      s.fail(error);
    } finally {
      g.catching.delete(s);
      drop(key, g);
    }
  };

  return {
    /**
     * Where a stream starts: at the watermark without a position, or after `after` clamped to what the store
     * holds. A position past the watermark is the watermark; one before the oldest retained row is just
     * before that row (arrival seqs have no gaps, so nothing lies between), found with one indexed read.
     */
    async start(after: number | undefined): Promise<{ afterSeq: number; watermark: number }> {
      // The store's own watermark, not the shared reused one: a stream without a position starts at "now".
      const watermark = await opts.reader.watermark();
      if (after === undefined || after >= watermark) return { afterSeq: watermark, watermark };
      const [first] = await opts.reader.tail({
        afterSeq: after,
        untilSeq: watermark,
        levels: [],
        sources: [],
        limit: 1,
      });
      return { afterSeq: first ? Math.max(after, first.seq - 1) : watermark, watermark };
    },

    /**
     * A subscriber of `filter` from `afterSeq` on; `watermark` is where a new poller starts (the store's
     * current one). The caller closes the subscriber when its stream ends.
     */
    subscribe(filter: TailFilter, afterSeq: number, watermark: number): TailSubscriber {
      const key = filterKey(filter);
      let g = groups.get(key);
      if (!g) {
        g = { filter, seq: watermark, live: new Set(), catching: new Set(), timer: undefined };
        groups.set(key, g);
        opts.onPollers?.(groups.size);
        const group = g;
        g.timer = setTimeout(() => void poll(key, group), pollMs);
      }
      const s = new TailSubscriber(afterSeq);
      if (afterSeq >= g.seq) g.live.add(s);
      else void catchUp(key, g, s);
      return s;
    },

    /** Distinct pollers running now. */
    pollers: (): number => groups.size,

    /** Ends every subscriber and poller (shutdown). */
    close(): void {
      for (const g of groups.values()) {
        clearTimeout(g.timer);
        for (const s of [...g.live, ...g.catching]) s.close();
      }
      groups.clear();
      opts.onPollers?.(0);
    },
  };
};

export type TailHub = ReturnType<typeof createTailHub>;
