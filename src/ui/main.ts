// The log explorer's entry point: builds the controller and wires the page's buttons and keys to it.

import { apiKey } from "./api.ts";
import { byId } from "./dom.ts";
import { Explorer } from "./explorer.ts";
import { Feedback } from "./feedback.ts";

const dialog = byId("key-dialog", HTMLDialogElement);
const keyInput = byId("key-input", HTMLInputElement);
const keyButton = byId("key-btn", HTMLButtonElement);
const search = byId("q", HTMLInputElement);

const showKeyState = (): void => {
  keyButton.textContent = apiKey.get() ? "API key ✓" : "API key";
};

const askForKey = (): void => {
  keyInput.value = apiKey.get();
  dialog.showModal();
  keyInput.focus();
};

// Times show in the browser's zone; the header says which.
byId("time-head", HTMLElement).textContent = `Time (${Intl.DateTimeFormat().resolvedOptions().timeZone})`;

const fb = new Feedback(askForKey);
const explorer = new Explorer(fb);
showKeyState();

const keyChanged = (key: string): void => {
  apiKey.set(key.trim());
  showKeyState();
  dialog.close();
  explorer.rerun();
};

byId("key-form", HTMLFormElement).addEventListener("submit", (e) => {
  e.preventDefault();
  keyChanged(keyInput.value);
});
byId("key-clear", HTMLButtonElement).addEventListener("click", () => keyChanged(""));
keyButton.addEventListener("click", askForKey);

byId("search-form", HTMLFormElement).addEventListener("submit", (e) => {
  e.preventDefault();
  explorer.change({ q: search.value.trim() });
});

byId("live", HTMLInputElement).addEventListener("change", (e) => {
  if (e.target instanceof HTMLInputElement) explorer.setLive(e.target.checked);
});
byId("pause", HTMLButtonElement).addEventListener("click", () => {
  if (byId("rate", HTMLElement).dataset.status === "paused") explorer.tail.resume();
  else explorer.tail.pause();
});
byId("stats-btn", HTMLButtonElement).addEventListener("click", () =>
  explorer.setStatsView(!explorer.state.stats),
);

// "/" focuses the search from anywhere except a field being typed in; Escape leaves it.
document.addEventListener("keydown", (e) => {
  const t = e.target;
  const typing =
    (t instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(t.type)) ||
    t instanceof HTMLTextAreaElement ||
    t instanceof HTMLSelectElement;
  if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    search.focus();
    search.select();
  } else if (e.key === "Escape" && t === search) search.blur();
});
