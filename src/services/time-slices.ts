// Cooperative time slicing: a long loop over client input gives the event loop back every few milliseconds.

/** How long one slice of work may hold the event loop before it yields (health checks and other requests run). */
export const SLICE_MS = 8;

export interface TimeSlicer {
  /** True once the current slice has run for its budget: the caller should `await pause()`. */
  due(): boolean;
  /** Lets timers and I/O run, then starts a new slice. */
  pause(): Promise<void>;
}

/**
 * Slices of every request take turns, one slice per turn of the event loop: with several large bodies at once,
 * their slices would otherwise all run back to back when their timers fire together, one budget each, and
 * hold the loop for that many budgets. setTimeout rather than setImmediate: Bun runs immediates before timers,
 * which a busy loop would starve.
 */
const waiting: (() => void)[] = [];
let scheduled = false;

const runOne = (): void => {
  scheduled = false;
  waiting.shift()?.();
  if (waiting.length > 0) schedule();
};

const schedule = (): void => {
  if (scheduled) return;
  scheduled = true;
  setTimeout(runOne, 0);
};

const nextTurn = (): Promise<void> =>
  new Promise((resolve) => {
    waiting.push(resolve);
    schedule();
  });

export const createTimeSlicer = (budgetMs = SLICE_MS): TimeSlicer => {
  let started = performance.now();
  return {
    due: () => performance.now() - started >= budgetMs,
    pause: async () => {
      await nextTurn();
      started = performance.now();
    },
  };
};
