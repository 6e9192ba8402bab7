// The stacked-by-level histogram, drawn as SVG; dragging across it selects a time range to zoom into.

import { LEVELS } from "../domain/level.ts";
import { type Bucket, widthFor } from "./buckets.ts";
import { formatCount, formatTick, formatTime, s } from "./dom.ts";
import type { TimeWindow } from "./state.ts";

const PAD_LEFT = 44;
const PAD_BOTTOM = 18;
const PAD_TOP = 6;
/** The most severe levels sit at the bottom of each stack, where they are easiest to see. */
const STACK = [...LEVELS].reverse();

export class Histogram {
  private buckets: Bucket[] = [];
  private win: TimeWindow = { start: 0, end: 1 };
  private dragFrom: number | undefined;
  private readonly selection = s("rect", { class: "sel", y: 0, height: 0, width: 0 });

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly onZoom: (w: TimeWindow) => void,
  ) {
    svg.addEventListener("pointerdown", (e) => this.down(e));
    svg.addEventListener("pointermove", (e) => this.move(e));
    svg.addEventListener("pointerup", (e) => this.up(e));
    svg.addEventListener("pointercancel", () => this.cancel());
    new ResizeObserver(() => this.draw()).observe(svg);
  }

  show(buckets: Bucket[], win: TimeWindow): void {
    this.buckets = buckets;
    this.win = win;
    this.draw();
  }

  private size(): { width: number; height: number } {
    return { width: this.svg.clientWidth || 800, height: this.svg.clientHeight || 120 };
  }

  private x(t: number): number {
    const { width } = this.size();
    const span = Math.max(1, this.win.end - this.win.start);
    return PAD_LEFT + ((t - this.win.start) / span) * (width - PAD_LEFT);
  }

  private timeAt(px: number): number {
    const { width } = this.size();
    const f = Math.min(1, Math.max(0, (px - PAD_LEFT) / Math.max(1, width - PAD_LEFT)));
    return Math.round(this.win.start + f * (this.win.end - this.win.start));
  }

  private draw(): void {
    const { width, height } = this.size();
    const plot = height - PAD_BOTTOM - PAD_TOP;
    const max = Math.max(1, ...this.buckets.map((b) => b.total));
    const span = this.win.end - this.win.start;
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.svg.replaceChildren();
    this.svg.append(
      s("line", { class: "axis", x1: PAD_LEFT, x2: width, y1: PAD_TOP + plot, y2: PAD_TOP + plot }),
    );
    this.label(PAD_LEFT - 6, PAD_TOP + 8, formatCount(max), "end");
    this.label(PAD_LEFT - 6, PAD_TOP + plot, "0", "end");
    for (const b of this.buckets) {
      const x0 = this.x(Math.max(b.start, this.win.start));
      const x1 = this.x(Math.min(b.end, this.win.end));
      const g = s("g", { class: "bucket", "data-count": b.total });
      const title = s("title");
      const parts = STACK.filter((l) => b.levels[l]).map((l) => `${l} ${formatCount(b.levels[l] ?? 0)}`);
      title.textContent = `${formatTime(b.start).slice(0, 19)}: ${formatCount(b.total)}${parts.length ? ` (${parts.join(", ")})` : ""}`;
      g.append(
        title,
        s("rect", { class: "hit", x: x0, y: PAD_TOP, width: Math.max(1, x1 - x0), height: plot }),
      );
      let y = PAD_TOP + plot;
      for (const l of STACK) {
        const n = b.levels[l] ?? 0;
        if (!n) continue;
        const hgt = (n / max) * plot;
        y -= hgt;
        g.append(
          s("rect", { class: `lvl-${l}`, x: x0 + 0.5, y, width: Math.max(1, x1 - x0 - 1), height: hgt }),
        );
      }
      this.svg.append(g);
    }
    // Ticks on round instants (every 5 min, every hour…), offset to the local zone's whole minutes.
    const step = widthFor(span, 6);
    const zone = new Date(this.win.start).getTimezoneOffset() * 60_000;
    for (let t = Math.ceil((this.win.start - zone) / step) * step + zone; t <= this.win.end; t += step) {
      const x = this.x(t);
      if (x > PAD_LEFT + 16 && x < width - 16) this.label(x, height - 4, formatTick(t, span), "middle");
    }
    this.svg.append(this.selection);
  }

  private label(x: number, y: number, text: string, anchor: string): void {
    const t = s("text", { x, y, "text-anchor": anchor });
    t.textContent = text;
    this.svg.append(t);
  }

  private px(e: PointerEvent): number {
    return e.clientX - this.svg.getBoundingClientRect().left;
  }

  private down(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.dragFrom = Math.max(PAD_LEFT, this.px(e));
    this.svg.setPointerCapture(e.pointerId);
    this.move(e);
  }

  private move(e: PointerEvent): void {
    if (this.dragFrom === undefined) return;
    const a = this.dragFrom;
    const b = Math.max(PAD_LEFT, Math.min(this.size().width, this.px(e)));
    const { height } = this.size();
    for (const [k, v] of Object.entries({
      x: Math.min(a, b),
      width: Math.abs(b - a),
      y: PAD_TOP,
      height: height - PAD_BOTTOM - PAD_TOP,
    }))
      this.selection.setAttribute(k, String(v));
  }

  private up(e: PointerEvent): void {
    if (this.dragFrom === undefined) return;
    const a = this.dragFrom;
    const b = this.px(e);
    this.cancel();
    if (Math.abs(b - a) < 4) return;
    const t0 = this.timeAt(Math.min(a, b));
    const t1 = this.timeAt(Math.max(a, b));
    if (t1 - t0 >= 1000) this.onZoom({ start: t0, end: t1 });
  }

  private cancel(): void {
    this.dragFrom = undefined;
    this.selection.setAttribute("width", "0");
  }
}
