// What the page tells the user: API errors (plainly, with their request id), notices, toasts and status lines.

import type { ApiError } from "./api.ts";
import { byId, h } from "./dom.ts";
import type { TailStatus } from "./tail.ts";

export class Feedback {
  private readonly errorBox = byId("error", HTMLElement);
  private readonly noticeBox = byId("notice", HTMLElement);
  private readonly toastBox = byId("toast", HTMLElement);
  private toastTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly askForKey: () => void) {}

  /** Shows an API error as the server worded it; `undefined` clears it. */
  error(e: ApiError | undefined, retry?: () => void): void {
    this.errorBox.hidden = !e;
    if (!e) {
      this.errorBox.replaceChildren();
      return;
    }
    const status = e.status ? `HTTP ${e.status} ` : "";
    const parts: (Node | string | null)[] = [
      h("strong", {}, `${status}${e.code}: `),
      e.message,
      e.details.length ? h("ul", {}, ...e.details.map((d) => h("li", {}, `${d.field}: ${d.message}`))) : null,
      e.requestId ? h("div", { class: "muted" }, `request id ${e.requestId}`) : null,
      e.status === 401 ? this.button("Enter API key", this.askForKey) : null,
      retry && e.status !== 401 && e.status !== 400 ? this.button("Retry", retry) : null,
    ];
    this.errorBox.replaceChildren(...parts.filter((p) => p !== null));
  }

  private button(text: string, onClick: () => void): HTMLButtonElement {
    const b = h("button", { type: "button" }, text);
    b.addEventListener("click", onClick);
    return b;
  }

  notice(text: string | undefined): void {
    this.noticeBox.hidden = !text;
    this.noticeBox.textContent = text ?? "";
  }

  toast(text: string): void {
    this.toastBox.textContent = text;
    this.toastBox.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      this.toastBox.hidden = true;
    }, 2500);
  }

  summary(text: string): void {
    byId("summary", HTMLElement).textContent = text;
  }

  loading(on: boolean): void {
    document.body.classList.toggle("loading", on);
  }

  /** The chart's caption, with a colour key for the levels it shows. */
  histCaption(text: string, levels: readonly string[] = []): void {
    byId("hist-caption", HTMLElement).replaceChildren(
      ...levels.map((l) => h("span", { class: `key lvl lvl-${l}` }, l)),
      text,
    );
  }

  statsView(on: boolean): void {
    byId("stats", HTMLElement).hidden = !on;
    byId("stats-btn", HTMLButtonElement).setAttribute("aria-pressed", String(on));
  }

  tailStatus(status: TailStatus, rate: number, held: number): void {
    const rateText = `${rate < 10 ? rate.toFixed(1) : Math.round(rate)} events/s`;
    const text: Record<TailStatus, string> = {
      off: "",
      connecting: "connecting…",
      live: `● live · ${rateText}`,
      paused: `paused · ${held} held · ${rateText}`,
      error: "reconnecting…",
    };
    const el = byId("rate", HTMLElement);
    el.textContent = text[status];
    el.dataset.status = status;
    const pause = byId("pause", HTMLButtonElement);
    pause.hidden = status === "off";
    pause.textContent = status === "paused" ? "Resume" : "Pause";
  }
}
