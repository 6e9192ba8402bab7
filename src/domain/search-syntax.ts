// The full-text query language: words are ANDed, "quoted phrases" match in order, -word excludes.
// Matching is case-insensitive on word tokens: a token is a run of letters and digits.

export interface SearchTerms {
  /** Every one of these words must occur. */
  words: string[];
  /** Each phrase is a sequence of words that must occur adjacent and in order. */
  phrases: string[][];
  /** None of these words may occur. */
  excluded: string[];
  /** None of these phrases may occur (-"a b"). */
  excludedPhrases?: string[][];
}

// Combining marks belong to their word (as in the FTS indexes), so decomposed accents do not split it.
const TOKEN = /[\p{L}\p{M}\p{N}]+/gu;

/** Lower-cased word tokens of a text, in order. */
export const tokenize = (text: string): string[] => (text.toLowerCase().match(TOKEN) ?? []).slice();

/** A message as a text index holds it: its word tokens, joined by single spaces. */
export const tokenText = (message: string): string => tokenize(message).join(" ");

export const parseSearch = (query: string): SearchTerms => {
  const words: string[] = [];
  const phrases: string[][] = [];
  const excluded: string[] = [];
  const excludedPhrases: string[][] = [];
  const parts = query.match(/-?"[^"]*"?|\S+/g) ?? [];
  for (const part of parts) {
    const negated = part.startsWith("-");
    const body = negated ? part.slice(1) : part;
    const tokens = tokenize(body.replaceAll('"', " "));
    if (tokens.length === 0) continue;
    if (negated && body.startsWith('"') && tokens.length > 1) excludedPhrases.push(tokens);
    else if (negated) excluded.push(...tokens);
    else if (body.startsWith('"') && tokens.length > 1) phrases.push(tokens);
    else words.push(...tokens);
  }
  return {
    words: unique(words),
    phrases,
    excluded: unique(excluded),
    ...(excludedPhrases.length ? { excludedPhrases } : {}),
  };
};

const unique = (xs: string[]): string[] => [...new Set(xs)];

export const hasPositiveTerms = (t: SearchTerms): boolean => t.words.length > 0 || t.phrases.length > 0;

/** Every positive word the query names (phrase words included): what an index can narrow on. */
export const positiveWords = (t: SearchTerms): string[] => unique([...t.words, ...t.phrases.flat()]);

/** Which terms of the query a message matches, or undefined when it does not match as a whole. */
export const matchTerms = (t: SearchTerms, message: string): string[] | undefined => {
  const tokens = tokenize(message);
  const set = new Set(tokens);
  for (const w of t.excluded) if (set.has(w)) return undefined;
  for (const p of t.excludedPhrases ?? []) if (containsSequence(tokens, p)) return undefined;
  const matched: string[] = [];
  for (const w of t.words) {
    if (!set.has(w)) return undefined;
    matched.push(w);
  }
  for (const p of t.phrases) {
    if (!containsSequence(tokens, p)) return undefined;
    matched.push(`"${p.join(" ")}"`);
  }
  return matched;
};

const containsSequence = (tokens: string[], seq: string[]): boolean => {
  outer: for (let i = 0; i + seq.length <= tokens.length; i++) {
    for (let j = 0; j < seq.length; j++) if (tokens[i + j] !== seq[j]) continue outer;
    return true;
  }
  return false;
};
