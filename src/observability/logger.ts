// The JSON logger of logproc itself: one line per record with time, level, role and message.

type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

// Never print a secret, whatever a caller passes in.
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization/i;
const SECRET_URL = /(\w+:\/\/[^:/@\s]*:)[^@\s]+@/g;

const scrub = (value: unknown, key = ""): unknown => {
  if (SECRET_KEY.test(key)) return "[redacted]";
  if (typeof value === "string") return value.replace(SECRET_URL, "$1[redacted]@");
  if (value instanceof Error) return { name: value.name, message: scrub(value.message) };
  if (Array.isArray(value)) return value.map((v) => scrub(v));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, k)]));
  return value;
};

export const createLogger = (
  level: LogLevel,
  baseFields: Fields = {},
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger => {
  const min = ORDER[level];
  // Base fields are printed on every line: scrub them once, here.
  const base = scrub(baseFields) as Fields;
  const emit = (lvl: LogLevel, message: string, fields?: Fields): void => {
    if (ORDER[lvl] < min) return;
    const record = {
      time: new Date().toISOString(),
      level: lvl,
      ...base,
      message: scrub(message),
      ...(scrub(fields ?? {}) as Fields),
    };
    write(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(level, { ...base, ...(scrub(fields) as Fields) }, write),
  };
};

export const silentLogger: Logger = createLogger("error", {}, () => {});
