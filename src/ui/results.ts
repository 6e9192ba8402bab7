// The results table: one row per event; a click expands its metadata JSON and copies its id.

import type { LogItem } from "./api.ts";
import { formatTime, h } from "./dom.ts";

/** Live rows beyond this many are dropped from the bottom, so a long tail does not grow without end. */
const MAX_ROWS = 5000;
const WORD = /[\p{L}\p{N}]+/gu;

/** The message with the words the search matched wrapped in <mark> (text nodes only: no HTML injection). */
const highlighted = (message: string, words: ReadonlySet<string>): Node => {
  const frag = document.createDocumentFragment();
  if (words.size === 0) {
    frag.append(message);
    return frag;
  }
  let at = 0;
  for (const m of message.matchAll(WORD)) {
    if (!words.has(m[0].toLowerCase())) continue;
    frag.append(message.slice(at, m.index), h("mark", {}, m[0]));
    at = m.index + m[0].length;
  }
  frag.append(message.slice(at));
  return frag;
};

const copyText = async (text: string): Promise<void> => {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API refused (no permission or focus): the older selection-based copy still works.
    const area = h("textarea", { readonly: true, class: "offscreen" }, text);
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) throw new Error("copy refused");
  }
};

export class ResultsTable {
  private readonly items = new Map<string, LogItem>();
  private words: ReadonlySet<string> = new Set();

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly notify: (text: string) => void,
  ) {
    tbody.addEventListener("click", (e) => {
      const row = e.target instanceof Element ? e.target.closest("tr.row") : null;
      if (row instanceof HTMLTableRowElement) this.toggle(row);
    });
    tbody.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target instanceof HTMLTableRowElement && e.target.classList.contains("row"))
        this.toggle(e.target);
    });
  }

  get count(): number {
    return this.items.size;
  }

  /** Empties the table; `terms` are the search's words to highlight. */
  clear(terms: readonly string[] = []): void {
    this.items.clear();
    this.words = new Set(terms.flatMap((t) => t.toLowerCase().match(WORD) ?? []));
    this.tbody.replaceChildren();
  }

  append(items: readonly LogItem[]): void {
    const frag = document.createDocumentFragment();
    for (const e of items) if (!this.items.has(e.id)) frag.append(this.row(e, false));
    this.tbody.append(frag);
  }

  /** Live events go on top, newest first, marked as fresh. */
  prepend(items: readonly LogItem[]): number {
    const frag = document.createDocumentFragment();
    let added = 0;
    for (const e of [...items].reverse()) {
      if (this.items.has(e.id)) continue;
      frag.append(this.row(e, true));
      added++;
    }
    this.tbody.prepend(frag);
    while (this.items.size > MAX_ROWS) {
      const last = this.tbody.lastElementChild;
      if (!(last instanceof HTMLTableRowElement)) break;
      if (last.dataset.id) this.items.delete(last.dataset.id);
      last.remove();
    }
    return added;
  }

  private row(e: LogItem, fresh: boolean): HTMLTableRowElement {
    this.items.set(e.id, e);
    const words = new Set([
      ...this.words,
      ...(e.matched ?? []).flatMap((t) => t.toLowerCase().match(WORD) ?? []),
    ]);
    return h(
      "tr",
      { class: fresh ? "row fresh" : "row", "data-id": e.id, tabindex: 0 },
      h("td", { class: "time" }, formatTime(Date.parse(e.timestamp))),
      h("td", {}, h("span", { class: `lvl lvl-${e.level}` }, e.level)),
      h("td", { class: "source" }, e.source),
      h("td", { class: "message" }, highlighted(e.message, words)),
    );
  }

  private toggle(row: HTMLTableRowElement): void {
    const id = row.dataset.id ?? "";
    const next = row.nextElementSibling;
    if (next instanceof HTMLTableRowElement && next.classList.contains("detail")) {
      next.remove();
      row.classList.remove("open");
      return;
    }
    const e = this.items.get(id);
    if (!e) return;
    row.classList.add("open");
    row.after(this.detail(e));
    copyText(id).then(
      () => this.notify(`Copied event id ${id}`),
      () => this.notify(`Could not copy; the id is ${id}`),
    );
  }

  private detail(e: LogItem): HTMLTableRowElement {
    const metadata =
      e.metadata === null || e.metadata === undefined ? "no metadata" : JSON.stringify(e.metadata, null, 2);
    return h(
      "tr",
      { class: "detail", "data-for": e.id },
      h(
        "td",
        { colspan: 4 },
        h(
          "dl",
          {},
          h("dt", {}, "id"),
          h("dd", {}, h("code", { class: "event-id" }, e.id)),
          h("dt", {}, "time"),
          h("dd", {}, `${e.timestamp} (stored ${e.createdAt})`),
          h("dt", {}, "message"),
          h("dd", { class: "full" }, e.message),
        ),
        h("pre", { class: "metadata" }, metadata),
      ),
    );
  }
}
