// Rules for values that must survive every store byte for byte.
// PostgreSQL text cannot hold U+0000, and a lone UTF-16 surrogate has no UTF-8 form: both are rejected
// at ingest (400) rather than silently rewritten, so what was accepted always reads back identical.

// biome-ignore lint/suspicious/noControlCharactersInRegex: the NUL character is exactly what we look for
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What a store keeps (no NUL, no lone surrogate), by two native scans. */
export const storableText = (text: string): boolean => !text.includes("\u0000") && text.isWellFormed();

/** Why a string cannot be stored, or undefined when it can. */
export const unstorableReason = (value: string): string | undefined => {
  if (storableText(value)) return undefined;
  if (NUL.test(value)) return "must not contain the NUL character (U+0000)";
  if (LONE_SURROGATE.test(value)) return "must not contain a lone UTF-16 surrogate";
  return undefined;
};

/**
 * Walks a JSON value (iteratively) and reports the first unstorable string, keys included, with its path.
 * A number must be finite: JSON.parse turns 1e400 into Infinity, which would be stored (and read back) as null.
 */
export const findUnstorable = (value: unknown, path = ""): { path: string; reason: string } | undefined => {
  const stack: [unknown, string][] = [[value, path]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, at] = item;
    if (typeof v === "string") {
      const reason = unstorableReason(v);
      if (reason) return { path: at, reason };
    } else if (typeof v === "number") {
      if (!Number.isFinite(v)) return { path: at, reason: "must be a finite number (at most ±1.8e308)" };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}[${i}]`]);
    } else if (v !== null && typeof v === "object") {
      for (const [key, inner] of Object.entries(v).reverse()) {
        const keyReason = unstorableReason(key);
        if (keyReason) return { path: `${at}.${key}`, reason: `key ${keyReason}` };
        stack.push([inner, `${at}.${key}`]);
      }
    }
  }
  return undefined;
};

/** Depth of nested objects/arrays; a scalar has depth 0. Iterative, so hostile nesting cannot overflow the stack. */
export const jsonDepth = (value: unknown): number => {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [v, depth] = item;
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > max) max = depth + 1;
    for (const inner of Array.isArray(v) ? v : Object.values(v)) stack.push([inner, depth + 1]);
  }
  return max;
};

/**
 * Length in Unicode code points: how zod's .max() counts, so every limit the ingest schema states ("at most
 * 64 characters") is measured the same way wherever the value comes back (ids, sources, cursors).
 */
export const codePointLength = (value: string): number => {
  let n = 0;
  for (const _ of value) n++;
  return n;
};

/**
 * prefix + parts.join(separator) + suffix made by the join alone, so the parts' text is copied once: a
 * template around a join of megabytes copies it all again when the result is flattened (to parse or send).
 */
export const joinWithin = (
  prefix: string,
  parts: readonly string[],
  separator: string,
  suffix: string,
): string => {
  if (parts.length === 0) return prefix + suffix;
  const framed = parts.slice();
  framed[0] = prefix + framed[0];
  framed[framed.length - 1] += suffix;
  return framed.join(separator);
};
