// Small DOM helpers: element creation, typed lookups that fail loudly, and formatting for display.

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

const SVG_NS = "http://www.w3.org/2000/svg";

const apply = (el: Element, attrs: Attrs): void => {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
};

export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag);
  apply(el, attrs);
  for (const c of children) if (c) el.append(c);
  return el;
};

export const s = <K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
): SVGElementTagNameMap[K] => {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  return el;
};

export const byId = <T extends Element>(id: string, type: abstract new (...args: never[]) => T): T => {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`the page lacks #${id}`);
  return el;
};

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** Local time as YYYY-MM-DD HH:MM:SS.mmm: sortable, unambiguous, and what people compare by eye. */
export const formatTime = (ms: number): string => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
};

/** The value a datetime-local input shows for an instant (local time, seconds precision). */
export const toLocalInput = (ms: number): string => formatTime(ms).slice(0, 19).replace(" ", "T");

/** A short axis label whose precision suits the span shown. */
export const formatTick = (ms: number, spanMs: number): string => {
  const t = formatTime(ms);
  if (spanMs <= 10 * 60_000) return t.slice(11, 19);
  if (spanMs <= 86_400_000) return t.slice(11, 16);
  return t.slice(5, 16);
};

export const formatCount = (n: number): string => n.toLocaleString("en-US");

export const formatSpan = (ms: number): string => {
  const units: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1000, "s"],
  ];
  for (const [size, name] of units) if (ms >= size) return `${Math.round((ms / size) * 10) / 10} ${name}`;
  return `${ms} ms`;
};
