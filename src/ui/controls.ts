// Filter controls: a checkbox multi-select in a <details>, and the time range picker.

import { byId, h, toLocalInput } from "./dom.ts";
import { type QueryState, RANGES, type RangeKey, resolveWindow, type TimeWindow } from "./state.ts";

export class MultiSelect {
  private options: string[] = [];
  private selected = new Set<string>();

  constructor(
    private readonly root: HTMLDetailsElement,
    private readonly label: string,
    private readonly onChange: (values: string[]) => void,
    private readonly classFor: (v: string) => string = () => "",
  ) {
    root.addEventListener("change", () => {
      this.selected = new Set(
        [...root.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value),
      );
      this.summarize();
      this.onChange(this.values);
    });
  }

  get values(): string[] {
    return this.options.filter((o) => this.selected.has(o));
  }

  /** Shows `options` (plus any selected value the list lacks) with `selected` ticked. */
  set(options: readonly string[], selected: readonly string[]): void {
    this.selected = new Set(selected);
    this.options = [...new Set([...options, ...selected])];
    const list = this.root.querySelector(".options") ?? this.root;
    list.replaceChildren(
      ...this.options.map((o) =>
        h(
          "label",
          {},
          h("input", { type: "checkbox", value: o, checked: this.selected.has(o) }),
          h("span", { class: this.classFor(o) }, o),
        ),
      ),
    );
    if (this.options.length === 0) list.append(h("span", { class: "muted" }, "none seen yet"));
    this.summarize();
  }

  private summarize(): void {
    const summary = this.root.querySelector("summary");
    const v = this.values;
    if (summary)
      summary.textContent = `${this.label}: ${v.length === 0 ? "all" : v.length <= 2 ? v.join(", ") : `${v.length} selected`}`;
  }
}

/** The range <select> with its absolute from/to inputs. */
export class RangePicker {
  private readonly select = byId("range", HTMLSelectElement);
  private readonly abs = byId("abs", HTMLFormElement);
  private readonly from = byId("from", HTMLInputElement);
  private readonly to = byId("to", HTMLInputElement);

  constructor(onChange: (range: RangeKey | "abs", w?: TimeWindow) => void) {
    this.select.addEventListener("change", () => {
      const v = this.select.value;
      if (v === "abs") {
        this.abs.hidden = false;
        this.from.focus();
      } else if (Object.hasOwn(RANGES, v)) onChange(v as RangeKey);
    });
    this.abs.addEventListener("submit", (e) => {
      e.preventDefault();
      const start = new Date(this.from.value).getTime();
      const end = new Date(this.to.value).getTime();
      if (Number.isFinite(start) && Number.isFinite(end) && start < end) onChange("abs", { start, end });
      else this.to.setCustomValidity("the end must come after the start");
      this.to.reportValidity();
      this.to.setCustomValidity("");
    });
  }

  show(state: QueryState, now: number): void {
    this.select.value = state.range;
    this.abs.hidden = state.range !== "abs";
    const w = resolveWindow(state, now);
    this.from.value = toLocalInput(w.start);
    this.to.value = toLocalInput(w.end);
  }
}
