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

/** The tsvector text of a message: each token with its 1-based word positions. */
export const tsvectorText = (message: string): string => {
  const positions = new Map<string, number[]>();
  let budget = MAX_INDEX_CHARS;
  let lossy = false;
  let unindexed = false;
  const tokens = tokenize(message);
  for (let i = 0; i < tokens.length; i++) {
    const lex = lexeme(tokens[i] as string);
    let list = positions.get(lex);
    if (!list) {
      budget -= lex.length + 8;
      if (budget < 0) {
        unindexed = true;
        break;
      }
      list = [];
      positions.set(lex, list);
    }
    const position = i + 1;
    if (position > MAX_POSITION || list.length >= MAX_POSITIONS) lossy = true;
    else list.push(position);
  }
  const parts: string[] = [];
  for (const [lex, list] of positions)
    parts.push(list.length ? `${quote(lex)}:${list.join(",")}` : quote(lex));
  if (lossy) parts.push(quote(LOSSY));
  if (unindexed) parts.push(quote(UNINDEXED));
  return parts.join(" ");
};

/**
 * The tsquery that preselects rows for a search: never misses a row that matchTerms accepts (rows whose
 * positions or words are incomplete pass through their marker), and is exact for every other row.
 * Undefined when the query has no terms at all.
 */
export const prefilterQuery = (t: SearchTerms): string | undefined => {
  const word = (w: string) => quote(lexeme(w));
  const excluded = t.excluded.map((w) => `!${word(w)}`);
  if (!hasPositiveTerms(t)) return excluded.length ? excluded.join(" & ") : undefined;
  const exact = [
    ...t.words.map(word),
    ...t.phrases.map((p) => `(${p.map(word).join(" <-> ")})`),
    ...excluded,
  ];
  const arms = [`(${exact.join(" & ")})`];
  if (t.phrases.length)
    arms.push(`(${[...positiveWords(t).map(word), ...excluded, quote(LOSSY)].join(" & ")})`);
  arms.push(quote(UNINDEXED));
  return arms.join(" | ");
};

/** Rows the text index alone cannot tell apart from matches (all positive words present): what a count rechecks. */
export const candidateQuery = (t: SearchTerms): string | undefined => {
  const words = positiveWords(t);
  return words.length ? words.map((w) => quote(lexeme(w))).join(" & ") : undefined;
};
