// Log levels, ordered from least to most severe.

export const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const;
export type Level = (typeof LEVELS)[number];

const LEVEL_SET: ReadonlySet<string> = new Set(LEVELS);

export const isLevel = (value: string): value is Level => LEVEL_SET.has(value);

/** Case-insensitive parse; `undefined` when the text names no level. */
export const parseLevel = (value: string): Level | undefined => {
  const upper = value.trim().toUpperCase();
  return isLevel(upper) ? upper : undefined;
};
