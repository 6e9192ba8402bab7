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
  if (value.length === 24 && ISO_CANONICAL.test(value)) return inRange(Date.parse(value));
  const text = value.trim();
  if (EPOCH_MS.test(text)) return inRange(Number(text));
  if (ISO_WITH_ZONE.test(text)) return inRange(Date.parse(normalizeIso(text)));
  if (ISO_NO_ZONE.test(text)) {
    const withTime = text.length === 10 ? `${text}T00:00:00` : text;
    return inRange(Date.parse(`${normalizeIso(withTime)}Z`));
  }
  return undefined;
};

// Date.parse wants 'T', at most millisecond digits, and a colon in the offset.
const normalizeIso = (text: string): string =>
  text
    .replace(" ", "T")
    .replace(/(\.\d{3})\d+/, "$1")
    .replace(/([+-]\d{2})(\d{2})$/, "$1:$2");

export const toIso = (ms: number): string => new Date(ms).toISOString();
