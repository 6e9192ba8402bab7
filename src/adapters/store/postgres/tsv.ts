// Search index text: tsvector and tsquery literals built from the domain tokenizer, so index and matchTerms agree.

import {
  hasPositiveTerms,
  positiveWords,
  type SearchTerms,
  tokenize,
} from "../../../domain/search-syntax.ts";

/** PostgreSQL refuses lexemes of 2 KB or more: longer tokens are indexed (and queried) by their prefix. */
const MAX_LEXEME_CHARS = 200;
/** PostgreSQL's largest word position and most positions kept per lexeme. */
const MAX_POSITION = 16_383;
const MAX_POSITIONS = 256;
/** A tsvector must stay under 1 MB; past this budget the rest of a (huge) message is not indexed. */
const MAX_INDEX_CHARS = 256 * 1024;

/** Marks a row whose positions are incomplete: phrase adjacency cannot be checked by the index. */
export const LOSSY = "~lossy";
/** Marks a row whose words are not all indexed: every search must look at it. */
export const UNINDEXED = "~unindexed";
// Neither marker can collide with a word: tokens are runs of letters and digits, never "~".

export const lexeme = (token: string): string =>
  token.length <= MAX_LEXEME_CHARS ? token : Array.from(token).slice(0, MAX_LEXEME_CHARS).join("");

const quote = (lex: string): string => `'${lex}'`;

/** Accumulates lexemes with their positions, within PostgreSQL's limits and the index budget. */
class TsvBuilder {
  /** Each lexeme's positions, in the order first seen. */
  readonly entries = new Map<string, number[]>();
  private budget = MAX_INDEX_CHARS;
  lossy = false;
  unindexed = false;

  /** Adds the token at a 1-based position; false once the budget is spent (nothing more is indexed). */
  add(token: string, position: number): boolean {
    const lex = token.length <= MAX_LEXEME_CHARS ? token : lexeme(token);
    let positions = this.entries.get(lex);
    if (!positions) {
      this.budget -= lex.length + 8;
      if (this.budget < 0) {
        this.unindexed = true;
        return false;
      }
      positions = [];
      this.entries.set(lex, positions);
    }
    if (position > MAX_POSITION || positions.length >= MAX_POSITIONS) this.lossy = true;
    else positions.push(position);
    return true;
  }

  /** The lexemes with their positions, and the markers, in order: what a tsvector of the message holds. */
  all(): [string, number[]][] {
    const out = [...this.entries];
    if (this.lossy) out.push([LOSSY, []]);
    if (this.unindexed) out.push([UNINDEXED, []]);
    // Code unit order is PostgreSQL's byte order for every lexeme without a surrogate pair; tsvector_recv
    // sorts the rest itself.
    return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  text(): string {
    let out = "";
    for (const [lex, positions] of this.all())
      out += `${out ? " " : ""}${quote(lex)}${positions.length ? `:${positions.join(",")}` : ""}`;
    return out;
  }
}

const NON_ASCII = /[\u0080-\uffff]/;

const isAsciiWordChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);

/**
 * Tokens of an ASCII message, found by a scan instead of lower-casing and a Unicode regex: for ASCII,
 * tokenize()'s letters, marks and digits are exactly [A-Za-z0-9] and lower-casing touches only A-Z. Each
 * token goes to visit, lower-cased, until visit returns false. Returns false, visiting nothing, when the
 * message is not ASCII.
 */
const eachAsciiToken = (message: string, visit: (token: string) => boolean): boolean => {
  if (NON_ASCII.test(message)) return false;
  let i = 0;
  const n = message.length;
  while (i < n) {
    let c = message.charCodeAt(i);
    if (!isAsciiWordChar(c)) {
      i++;
      continue;
    }
    const start = i;
    let upper = false;
    do {
      if (c >= 65 && c <= 90) upper = true;
      c = ++i < n ? message.charCodeAt(i) : 0;
    } while (i < n && isAsciiWordChar(c));
    const token = message.slice(start, i);
    if (!visit(upper ? token.toLowerCase() : token)) break;
  }
  return true;
};

/** Most tokens a message may have for the direct form below: no lexeme can then pass MAX_POSITIONS. */
const DIRECT_MAX_TOKENS = MAX_POSITIONS;

/**
 * The usual case, an ASCII message of at most DIRECT_MAX_TOKENS tokens, written straight out as one
 * `'lexeme':position` entry per token: PostgreSQL's tsvector input merges repeated lexemes and their
 * positions itself, and none of the builder's limits can be reached. Undefined when the case does not apply.
 */
const directAscii = (message: string): string | undefined => {
  let out = "";
  let position = 0;
  const ascii = eachAsciiToken(message, (token) => {
    if (position === DIRECT_MAX_TOKENS) {
      position = -1;
      return false;
    }
    const lex = token.length <= MAX_LEXEME_CHARS ? token : token.slice(0, MAX_LEXEME_CHARS);
    out += `${position === 0 ? "" : " "}'${lex}':${++position}`;
    return true;
  });
  return ascii && position >= 0 ? out : undefined;
};

/** The tsvector text of a message: each token with its 1-based word positions. */
export const tsvectorText = (message: string): string => {
  const direct = directAscii(message);
  if (direct !== undefined) return direct;
  const builder = new TsvBuilder();
  let position = 0;
  if (eachAsciiToken(message, (token) => builder.add(token, ++position))) return builder.text();
  const tokens = tokenize(message);
  for (let i = 0; i < tokens.length; i++) if (!builder.add(tokens[i] as string, i + 1)) break;
  return builder.text();
};

/** The lexemes and positions of a message's tsvector, as tsvectorText holds them. */
export const tsvectorEntries = (message: string): [string, number[]][] => {
  const builder = new TsvBuilder();
  let position = 0;
  if (!eachAsciiToken(message, (token) => builder.add(token, ++position))) {
    const tokens = tokenize(message);
    for (let i = 0; i < tokens.length; i++) if (!builder.add(tokens[i] as string, i + 1)) break;
  }
  return builder.all();
};

/** The most bytes tsvectorBinary writes for these entries. */
export const tsvectorBinaryBound = (entries: [string, number[]][]): number => {
  let n = 4;
  for (const [lex, positions] of entries) n += lex.length * 3 + 3 + positions.length * 2;
  return n;
};

/**
 * A tsvector in PostgreSQL's binary form (tsvector_recv) at `at`: the count of lexemes, then each lexeme
 * NUL-terminated with its count of positions and the positions (weight D). Returns the bytes written.
 */
export const tsvectorBinary = (entries: [string, number[]][], out: Buffer, at: number): number => {
  const start = at;
  out.writeInt32BE(entries.length, at);
  at += 4;
  for (const [lex, positions] of entries) {
    at += out.write(lex, at, "utf8");
    out[at++] = 0;
    out.writeUInt16BE(positions.length, at);
    at += 2;
    for (const p of positions) {
      out.writeUInt16BE(p, at);
      at += 2;
    }
  }
  return at - start;
};

/**
 * The tsquery that preselects rows for a search: never misses a row that matchTerms accepts (rows whose
 * positions or words are incomplete pass through their marker), and is exact for every other row.
 * Undefined when the query has no terms at all.
 */
export const prefilterQuery = (t: SearchTerms): string | undefined => {
  const word = (w: string) => quote(lexeme(w));
  const excluded = t.excluded.map((w) => `!${word(w)}`);
  // An excluded phrase is left out by positions, which only rows without the lossy marker hold exactly.
  const excludedPhrases = (t.excludedPhrases ?? []).map((p) => `!(${p.map(word).join(" <-> ")})`);
  if (!hasPositiveTerms(t)) {
    const all = [...excluded, ...excludedPhrases];
    if (!all.length) return undefined;
    return excludedPhrases.length
      ? `(${all.join(" & ")}) | ${quote(LOSSY)} | ${quote(UNINDEXED)}`
      : all.join(" & ");
  }
  const exact = [
    ...t.words.map(word),
    ...t.phrases.map((p) => `(${p.map(word).join(" <-> ")})`),
    ...excluded,
    ...excludedPhrases,
  ];
  const arms = [`(${exact.join(" & ")})`];
  if (t.phrases.length || excludedPhrases.length)
    arms.push(`(${[...positiveWords(t).map(word), ...excluded, quote(LOSSY)].join(" & ")})`);
  arms.push(quote(UNINDEXED));
  return arms.join(" | ");
};

/** Rows the text index alone cannot tell apart from matches (all positive words present): what a count rechecks. */
export const candidateQuery = (t: SearchTerms): string | undefined => {
  const words = positiveWords(t);
  return words.length ? words.map((w) => quote(lexeme(w))).join(" & ") : undefined;
};
