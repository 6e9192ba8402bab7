// Search index text: tsvector and tsquery literals built from the domain tokenizer, so index and matchTerms agree.

import {
  hasPositiveTerms,
  positiveWords,
  type SearchTerms,
  tokenize,
} from "../../../domain/search-syntax.ts";
import { put32 } from "./copy.ts";

/** PostgreSQL refuses lexemes of 2 KB or more: longer tokens are indexed (and queried) by their prefix. */
export const MAX_LEXEME_CHARS = 200;
/** PostgreSQL's largest word position and most positions kept per lexeme. */
const MAX_POSITION = 16_383;
export const MAX_POSITIONS = 256;
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

/**
 * Accumulates lexemes with their positions, within PostgreSQL's limits and the index budget. One builder is
 * reset and reused for every row: the write path builds tens of thousands of tsvectors a second, and fresh
 * maps and arrays for each were a third of the consumer's CPU in garbage.
 */
export class TsvBuilder {
  /** Lexeme → its slot in the arrays below. */
  private readonly slots = new Map<string, number>();
  private readonly lexemes: string[] = [];
  /** Each slot's first position (0: none), and its further positions once it has more than one. */
  private readonly first: number[] = [];
  private readonly more: (number[] | undefined)[] = [];
  private budget = MAX_INDEX_CHARS;
  /** Bytes of the binary form so far, but for its count and the markers. */
  private bytes = 0;
  private lossy = false;
  private unindexed = false;

  reset(): this {
    this.slots.clear();
    this.lexemes.length = 0;
    this.first.length = 0;
    this.more.length = 0;
    this.budget = MAX_INDEX_CHARS;
    this.bytes = 0;
    this.lossy = false;
    this.unindexed = false;
    return this;
  }

  /** Adds the token at a 1-based position; false once the budget is spent (nothing more is indexed). */
  add(token: string, position: number): boolean {
    const lex = token.length <= MAX_LEXEME_CHARS ? token : lexeme(token);
    let slot = this.slots.get(lex);
    if (slot === undefined) {
      this.budget -= lex.length + 8;
      if (this.budget < 0) {
        this.unindexed = true;
        return false;
      }
      slot = this.lexemes.length;
      this.slots.set(lex, slot);
      this.lexemes.push(lex);
      this.first.push(0);
      this.more.push(undefined);
      // At most 3 UTF-8 bytes per code unit, the NUL and the count of positions.
      this.bytes += 3 * lex.length + 3;
    }
    const first = this.first[slot] as number;
    const count = first === 0 ? 0 : 1 + (this.more[slot]?.length ?? 0);
    if (position > MAX_POSITION || count >= MAX_POSITIONS) {
      this.lossy = true;
      return true;
    }
    this.bytes += 2;
    if (first === 0) this.first[slot] = position;
    else {
      const more = this.more[slot];
      if (more) more.push(position);
      else this.more[slot] = [position];
    }
    return true;
  }

  /** The lexemes and markers in PostgreSQL's order (code unit order is its byte order but for surrogate pairs, which tsvector_recv sorts itself). */
  private sorted(): string[] {
    const out = this.lexemes.slice();
    if (this.lossy) out.push(LOSSY);
    if (this.unindexed) out.push(UNINDEXED);
    return out.sort();
  }

  private positions(lex: string): number[] {
    const slot = this.slots.get(lex);
    if (slot === undefined) return [];
    const first = this.first[slot] as number;
    return first === 0 ? [] : [first, ...(this.more[slot] ?? [])];
  }

  text(): string {
    let out = "";
    for (const lex of this.sorted()) {
      const p = this.positions(lex);
      out += `${out ? " " : ""}${quote(lex)}${p.length ? `:${p.join(",")}` : ""}`;
    }
    return out;
  }

  /** The most bytes binary() writes. */
  binaryBound(): number {
    return 4 + this.bytes + 2 * 16;
  }

  /**
   * The tsvector in PostgreSQL's binary form (tsvector_recv) at `at`: the count of lexemes, then each lexeme
   * NUL-terminated with its count of positions and the positions (weight D). Returns the bytes written.
   */
  binary(out: Buffer, at: number, ascii: boolean): number {
    const start = at;
    const lexemes = this.sorted();
    const n = lexemes.length;
    put32(out, at, n);
    at += 4;
    for (let k = 0; k < n; k++) {
      const lex = lexemes[k] as string;
      if (ascii) for (let c = 0; c < lex.length; c++) out[at++] = lex.charCodeAt(c);
      else at += out.write(lex, at, "utf8");
      out[at++] = 0;
      const slot = this.slots.get(lex);
      const first = slot === undefined ? 0 : (this.first[slot] as number);
      if (first === 0) {
        out[at++] = 0;
        out[at++] = 0;
        continue;
      }
      const more = this.more[slot as number];
      const count = 1 + (more?.length ?? 0);
      out[at++] = count >>> 8;
      out[at++] = count;
      out[at++] = first >>> 8;
      out[at++] = first;
      if (more)
        for (const p of more) {
          out[at++] = p >>> 8;
          out[at++] = p;
        }
    }
    return at - start;
  }
}

const NON_ASCII = /[\u0080-\uffff]/;

export const isAsciiWordChar = (c: number): boolean =>
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

/** Fills the builder with the tokens of a message; true when the message is ASCII. */
export const fill = (builder: TsvBuilder, message: string): boolean => {
  let position = 0;
  if (eachAsciiToken(message, (token) => builder.add(token, ++position))) return true;
  const tokens = tokenize(message);
  for (let i = 0; i < tokens.length; i++) if (!builder.add(tokens[i] as string, i + 1)) break;
  return false;
};

/** The tsvector text of a message, each token with its 1-based word positions: the form psql \copy reads. */
export const tsvectorText = (message: string): string => {
  const direct = directAscii(message);
  if (direct !== undefined) return direct;
  const builder = new TsvBuilder();
  fill(builder, message);
  return builder.text();
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
