// The explorer's controller: runs the query the state describes and keeps the URL, table and chart in step.

import { LEVELS } from "../domain/level.ts";
import { parseSearch, positiveWords } from "../domain/search-syntax.ts";
import { ApiError, fetchPage, fetchStatsSince, isAbort, type Page } from "./api.ts";
import { chartData } from "./buckets.ts";
import { MultiSelect, RangePicker } from "./controls.ts";
import { byId, formatCount, formatTime } from "./dom.ts";
import type { Feedback } from "./feedback.ts";
import { Histogram } from "./histogram.ts";
import { Pager } from "./pager.ts";
import { ResultsTable } from "./results.ts";
import * as st from "./state.ts";
import { loadStats } from "./stats-view.ts";
import { LiveTail } from "./tail.ts";

const PAGE_SIZE = "100";

const asApiError = (e: unknown): ApiError =>
  e instanceof ApiError ? e : new ApiError(0, "client", String(e));

export class Explorer {
  state: st.QueryState;
  readonly tail: LiveTail;
  private ctrl = new AbortController();
  private win: st.TimeWindow = { start: 0, end: 0 };
  private base: Record<string, string | undefined> = {};
  private total = "";
  private liveAdded = 0;
  private knownSources: string[] = [];
  /** True until a query answered under the default range the link left open: only then may it widen. */
  private mayWiden: boolean;
  private readonly table: ResultsTable;
  private readonly pager: Pager;
  private readonly hist = new Histogram(byId("hist", SVGSVGElement), (w) =>
    this.change({ range: "abs", from: w.start, to: w.end }),
  );
  private readonly levels: MultiSelect;
  private readonly sources: MultiSelect;
  private readonly range = new RangePicker((range, w) =>
    this.change(w ? { range, from: w.start, to: w.end } : { range }),
  );

  constructor(private readonly fb: Feedback) {
    const { state, explicitRange } = st.fromUrl(location.search);
    this.state = state;
    this.mayWiden = !explicitRange;
    const levelSelect = byId("level-select", HTMLDetailsElement);
    this.levels = new MultiSelect(
      levelSelect,
      "Level",
      (v) => this.change({ levels: v }),
      (l) => `lvl lvl-${l}`,
    );
    const sourceSelect = byId("source-select", HTMLDetailsElement);
    this.sources = new MultiSelect(sourceSelect, "Source", (v) => this.change({ sources: v }));
    sourceSelect.addEventListener(
      "toggle",
      () => sourceSelect.open && void this.loadSources(this.ctrl.signal),
    );
    this.table = new ResultsTable(byId("rows", HTMLTableSectionElement), (t) => fb.toast(t));
    this.pager = new Pager(
      byId("sentinel", HTMLElement),
      (cursor, signal) => fetchPage({ ...this.base, size: PAGE_SIZE, cursor }, signal),
      (page) => {
        this.table.append(page.content);
        this.summarize();
      },
      (e) => !isAbort(e) && fb.error(asApiError(e), () => this.rerun()),
    );
    this.tail = new LiveTail({
      params: () => st.filterParams(this.state),
      onEvents: (items) => {
        this.liveAdded += this.table.prepend(items);
        this.summarize();
      },
      onStatus: (status, rate, held) => fb.tailStatus(status, rate, held),
      onError: (e) => fb.error(e, () => this.rerun()),
    });
    window.addEventListener("popstate", () => {
      this.state = st.fromUrl(location.search).state;
      this.mayWiden = false;
      this.rerun();
    });
    this.rerun();
  }

  /** Applies a change from a control, records it in the history, and runs the query. */
  change(patch: Partial<st.QueryState>): void {
    this.state = { ...this.state, ...patch };
    history.pushState(null, "", st.toUrl(this.state));
    this.fb.notice(undefined);
    this.mayWiden = false;
    this.rerun();
  }

  rerun(): void {
    void this.run();
  }

  setLive(on: boolean): void {
    this.state = { ...this.state, live: on };
    history.replaceState(null, "", st.toUrl(this.state));
    this.liveAdded = 0;
    if (on) this.tail.start();
    else this.tail.stop();
    this.summarize();
  }

  setStatsView(on: boolean): void {
    this.state = { ...this.state, stats: on };
    history.replaceState(null, "", st.toUrl(this.state));
    this.fb.statsView(on);
    if (on) this.stats(this.ctrl.signal);
  }

  private showControls(): void {
    byId("q", HTMLInputElement).value = this.state.q;
    this.levels.set(LEVELS, this.state.levels);
    this.sources.set(this.knownSources, this.state.sources);
    this.range.show(this.state, Date.now());
    this.fb.statsView(this.state.stats);
    byId("live", HTMLInputElement).checked = this.state.live;
  }

  private async run(): Promise<void> {
    this.ctrl.abort();
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.showControls();
    this.win = st.resolveWindow(this.state, Date.now());
    this.base = {
      ...st.filterParams(this.state),
      startTime: String(this.win.start),
      endTime: String(this.win.end),
    };
    this.fb.error(undefined);
    this.fb.loading(true);
    try {
      const page = await fetchPage({ ...this.base, size: PAGE_SIZE }, ctrl.signal);
      const widen = this.mayWiden && page.empty && this.state.range === st.DEFAULT_RANGE;
      this.mayWiden = false;
      if (widen) {
        this.state = { ...this.state, range: st.WIDENED_RANGE };
        history.replaceState(null, "", st.toUrl(this.state));
        this.fb.notice("Nothing in the last 15 minutes: showing the last 24 hours.");
        return await this.run();
      }
      this.table.clear(this.state.q ? positiveWords(parseSearch(this.state.q)) : []);
      this.table.append(page.content);
      this.total = `${page.totalElementsExact ? "" : "≈"}${formatCount(page.totalElements)}`;
      this.liveAdded = 0;
      this.pager.reset(page, ctrl.signal);
      this.summarize();
      void this.chart(page, ctrl.signal);
      if (this.state.stats) this.stats(ctrl.signal);
      if (this.state.live) this.tail.start();
      else if (this.tail.running) this.tail.stop();
      if (!this.knownSources.length) void this.loadSources(ctrl.signal);
    } catch (error) {
      if (!isAbort(error)) this.fb.error(asApiError(error), () => this.rerun());
    } finally {
      if (this.ctrl === ctrl) this.fb.loading(false);
    }
  }

  private summarize(): void {
    const w = this.win;
    const live = this.state.live ? ` · ${formatCount(this.liveAdded)} live` : "";
    const span = `${formatTime(w.start).slice(0, 19)} → ${formatTime(w.end).slice(0, 19)}`;
    this.fb.summary(`${this.total} events · ${span}${live} · showing ${formatCount(this.table.count)}`);
    const end = this.table.count ? "End of results" : "No events match.";
    byId("sentinel", HTMLElement).textContent = this.pager.loading
      ? "Loading more…"
      : this.pager.hasMore
        ? ""
        : end;
  }

  private async chart(first: Page, signal: AbortSignal): Promise<void> {
    const w = this.win;
    try {
      const { buckets, caption } = await chartData(first, this.base, w, this.state, signal);
      if (signal.aborted) return;
      this.hist.show(buckets, w);
      this.fb.histCaption(
        caption,
        LEVELS.filter((l) => buckets.some((b) => b.levels[l])),
      );
    } catch (error) {
      if (!isAbort(error)) this.fb.histCaption(`Histogram unavailable: ${asApiError(error).message}`);
    }
  }

  private stats(signal: AbortSignal): void {
    loadStats(byId("stats", HTMLElement), this.state, this.win, signal).catch((error: unknown) => {
      if (!isAbort(error)) this.fb.error(asApiError(error), () => this.rerun());
    });
  }

  /** The source list comes from the stats of at least the last day (refreshed when the list opens). */
  private async loadSources(signal: AbortSignal): Promise<void> {
    try {
      const stats = await fetchStatsSince(this.win.start, signal, 24);
      this.knownSources = Object.entries(stats.sourceCounts)
        .sort((a, b) => b[1] - a[1])
        .map(([name]) => name);
      this.sources.set(this.knownSources, this.state.sources);
    } catch {
      // The list is a convenience: the table and its own error already tell the story.
    }
  }
}
