// Parsing of the time forms clients send: ISO-8601 with a zone, without one (taken as UTC), or epoch ms.

const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const EPOCH_MS = /^-?\d{1,15}$/;
/** What toISOString writes and most shippers send: Date.parse takes it as it is (normalizeIso leaves it alone). */
const ISO_CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The earliest and latest instants we accept (years 1970..9999 keep every store and JSON happy). */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const inRange = (ms: number): number | undefined =>
  Number.isFinite(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS ? Math.floor(ms) : undefined;

/** Epoch milliseconds for a client-supplied time, or undefined when it is not one of the accepted forms. */
export const parseTime = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isInteger(value) ? inRange(value) : undefined;
  if (typeof value !== "string") return undefined;
  if (value.length === 24 && ISO_CANONICAL.test(value)) return inRange(canonicalIso(value));
  const text = value.trim();
  if (EPOCH_MS.test(text)) return inRange(Number(text));
  if (ISO_WITH_ZONE.test(text)) return inRange(Date.parse(normalizeIso(text)));
  if (ISO_NO_ZONE.test(text)) {
    const withTime = text.length === 10 ? `${text}T00:00:00` : text;
    return inRange(Date.parse(`${normalizeIso(withTime)}Z`));
  }
  return undefined;
};

/** The number written by the digits text[from, from + count) (checked to be digits by the caller). */
const digits = (text: string, from: number, count: number): number => {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
};

/**
 * Epoch ms of a time in ISO_CANONICAL form, read field by field: for fields in their everyday ranges this is
 * what Date.parse gives (the same MakeDay/MakeTime), at half its cost; anything else (a year before 100, day
 * 29-31, hour 24, second 60) is left to Date.parse, which judges and rolls over as it always did.
 */
const canonicalIso = (text: string): number => {
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > 28 || hour > 23 || minute > 59 || second > 59)
    return Date.parse(text);
  return Date.UTC(year, month - 1, day, hour, minute, second, digits(text, 20, 3));
};

// Date.parse wants 'T', at most millisecond digits, and a colon in the offset.
const normalizeIso = (text: string): string =>
  text
    .replace(" ", "T")
    .replace(/(\.\d{3})\d+/, "$1")
    .replace(/([+-]\d{2})(\d{2})$/, "$1:$2");

export const toIso = (ms: number): string => new Date(ms).toISOString();
