// The stats view: counts by level and the top sources for the chosen window and filters.

import { LEVELS } from "../domain/level.ts";
import { fetchPage, fetchStatsSince } from "./api.ts";
import { formatCount, h } from "./dom.ts";
import { filterParams, type QueryState, type TimeWindow } from "./state.ts";

const TOP_SOURCES = 10;

interface Count {
  name: string;
  n: number;
  exact: boolean;
}

/**
 * Each count is the total of a one-row query with the window and every filter applied, so it is exact for the
 * window (the stats endpoint only knows "the last N hours" and no filters). Source candidates come from stats.
 */
const countOf = async (
  state: QueryState,
  w: TimeWindow,
  name: string,
  over: Partial<QueryState>,
  signal: AbortSignal,
) => {
  const page = await fetchPage(
    { ...filterParams({ ...state, ...over }), startTime: String(w.start), endTime: String(w.end), size: "1" },
    signal,
  );
  return { name, n: page.totalElements, exact: page.totalElementsExact };
};

const table = (title: string, counts: Count[], classFor: (name: string) => string): HTMLElement => {
  const max = Math.max(1, ...counts.map((c) => c.n));
  return h(
    "section",
    {},
    h("h3", {}, title),
    counts.length === 0
      ? h("p", { class: "muted" }, "nothing in this window")
      : h(
          "table",
          { class: "counts" },
          ...counts.map((c) =>
            h(
              "tr",
              { "data-name": c.name },
              h("td", {}, h("span", { class: classFor(c.name) }, c.name)),
              h("td", { class: "num" }, `${c.exact ? "" : "≈"}${formatCount(c.n)}`),
              h(
                "td",
                { class: "barcell" },
                h("span", { class: `bar ${classFor(c.name)}`, "data-w": (c.n / max).toFixed(3) }),
              ),
            ),
          ),
        ),
  );
};

export const loadStats = async (
  root: HTMLElement,
  state: QueryState,
  w: TimeWindow,
  signal: AbortSignal,
): Promise<void> => {
  root.replaceChildren(h("p", { class: "muted" }, "Counting…"));
  const levels = state.levels.length ? state.levels : [...LEVELS];
  let sources = state.sources;
  if (!sources.length) {
    const stats = await fetchStatsSince(w.start, signal);
    sources = Object.entries(stats.sourceCounts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_SOURCES * 2)
      .map(([name]) => name);
  }
  const [byLevel, bySource] = await Promise.all([
    Promise.all(levels.map((l) => countOf(state, w, l, { levels: [l] }, signal))),
    Promise.all(sources.map((src) => countOf(state, w, src, { sources: [src] }, signal))),
  ]);
  const top = bySource
    .filter((c) => c.n > 0)
    .sort((a, b) => b.n - a.n)
    .slice(0, TOP_SOURCES);
  root.replaceChildren(
    table(
      "By level",
      byLevel.filter((c) => c.n > 0),
      (l) => `lvl lvl-${l}`,
    ),
    table("Top sources", top, () => "src"),
  );
  // Bar widths as CSSOM values: the page's CSP allows no inline style attributes.
  for (const bar of root.querySelectorAll<HTMLElement>(".bar"))
    bar.style.width = `${Number(bar.dataset.w) * 100}%`;
};
