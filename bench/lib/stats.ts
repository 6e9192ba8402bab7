// Percentiles and medians over measured samples.

export const percentile = (values: readonly number[], p: number): number => {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
};

export const median = (values: readonly number[]): number => percentile(values, 50);

export const round = (x: number, digits = 2): number => {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Two decimals, or three significant digits below 1 (a bare in-process read can take a few µs). */
export const roundFigure = (x: number): number =>
  Number.isFinite(x) && x !== 0 && Math.abs(x) < 1 ? Number(x.toPrecision(3)) : round(x);

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Milliseconds in, milliseconds out (rounded to 0.01 ms). */
export const summarize = (ms: readonly number[]): LatencySummary => ({
  n: ms.length,
  p50: round(percentile(ms, 50)),
  p90: round(percentile(ms, 90)),
  p99: round(percentile(ms, 99)),
  max: round(ms.length ? Math.max(...ms) : Number.NaN),
});
