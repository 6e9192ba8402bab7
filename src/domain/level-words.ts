// Level words and numbers of other log formats (OTLP severity, Loki's level label) mapped to logproc's levels.

import type { Level } from "./level.ts";

// Keys are lower-case words; a null prototype so a label such as "constructor" finds nothing.
const WORDS: Record<string, Level> = Object.assign(Object.create(null) as Record<string, Level>, {
  trace: "TRACE",
  silly: "TRACE",
  debug: "DEBUG",
  verbose: "DEBUG",
  dbg: "DEBUG",
  info: "INFO",
  information: "INFO",
  informational: "INFO",
  notice: "INFO",
  http: "INFO",
  warn: "WARN",
  warning: "WARN",
  error: "ERROR",
  err: "ERROR",
  eror: "ERROR",
  fatal: "FATAL",
  critical: "FATAL",
  crit: "FATAL",
  alert: "FATAL",
  emerg: "FATAL",
  emergency: "FATAL",
  panic: "FATAL",
});

/** A level from a word such as "Warning" or "err"; undefined when the word names none. */
export const levelFromWord = (word: string): Level | undefined => WORDS[word.trim().toLowerCase()];

/** OTLP SeverityNumber: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL; else undefined. */
export const levelFromSeverityNumber = (n: number): Level | undefined => {
  if (!Number.isInteger(n) || n < 1 || n > 24) return undefined;
  const levels: readonly Level[] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
  return levels[Math.floor((n - 1) / 4)];
};
