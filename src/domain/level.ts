// Log levels, ordered from least to most severe.

export const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const;
export type Level = (typeof LEVELS)[number];

const LEVEL_SET: ReadonlySet<string> = new Set(LEVELS);

export const isLevel = (value: string): value is Level => LEVEL_SET.has(value);

/** The spellings clients mostly send ("INFO", "info"), answered without making a trimmed upper-case copy. */
const USUAL: ReadonlyMap<string, Level> = new Map(
  LEVELS.flatMap((level) => [
    [level, level],
    [level.toLowerCase(), level],
  ]),
);

/** Case-insensitive parse; `undefined` when the text names no level. */
export const parseLevel = (value: string): Level | undefined => {
  const usual = USUAL.get(value);
  if (usual !== undefined) return usual;
  const upper = value.trim().toUpperCase();
  return isLevel(upper) ? upper : undefined;
};
