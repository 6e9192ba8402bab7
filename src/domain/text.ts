// Rules for text that must survive every store byte for byte.
// PostgreSQL text cannot hold U+0000, and a lone UTF-16 surrogate has no UTF-8 form: both are rejected
// at ingest (400) rather than silently rewritten, so what was accepted always reads back identical.

// biome-ignore lint/suspicious/noControlCharactersInRegex: the NUL character is exactly what we look for
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or undefined when it can. */
export const unstorableReason = (value: string): string | undefined => {
  if (NUL.test(value)) return "must not contain the NUL character (U+0000)";
  if (LONE_SURROGATE.test(value)) return "must not contain a lone UTF-16 surrogate";
  return undefined;
};

/** Walks a JSON value and reports the first unstorable string (keys included) with its path. */
export const findUnstorable = (value: unknown, path = ""): { path: string; reason: string } | undefined => {
  if (typeof value === "string") {
    const reason = unstorableReason(value);
    return reason ? { path, reason } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const keyReason = unstorableReason(key);
      if (keyReason) return { path: `${path}.${key}`, reason: `key ${keyReason}` };
      const found = findUnstorable(inner, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
};

/** Depth of nested objects/arrays; a scalar has depth 0. */
export const jsonDepth = (value: unknown): number => {
  if (value === null || typeof value !== "object") return 0;
  let max = 0;
  for (const inner of Array.isArray(value) ? value : Object.values(value)) {
    const d = jsonDepth(inner);
    if (d > max) max = d;
  }
  return max + 1;
};
