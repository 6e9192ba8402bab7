// Cooperative time slicing: a long loop over client input gives the event loop back every few milliseconds.

/** How long one slice of work may hold the event loop before it yields (health checks and other requests run). */
export const SLICE_MS = 8;

export interface TimeSlicer {
  /** True once the current slice has run for its budget: the caller should `await pause()`. */
  due(): boolean;
  /** Lets timers and I/O run, then starts a new slice. */
  pause(): Promise<void>;
}

/** setTimeout rather than setImmediate: Bun runs immediates before timers, which a busy loop would starve. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

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
