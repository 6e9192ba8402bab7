// The search language: words ANDed, "quoted phrases" in order, -excluded words, case-insensitive tokens.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  hasPositiveTerms,
  matchTerms,
  parseSearch,
  positiveWords,
  tokenize,
} from "../../src/domain/search-syntax.ts";

describe("parseSearch", () => {
  test("splits words, lower-cases them and drops repeats", () => {
    expect(parseSearch("Disk FULL disk")).toEqual({ words: ["disk", "full"], phrases: [], excluded: [] });
  });

  test("keeps a quoted phrase as one ordered sequence", () => {
    expect(parseSearch('"Connection Reset by peer" db')).toEqual({
      words: ["db"],
      phrases: [["connection", "reset", "by", "peer"]],
      excluded: [],
    });
  });

  test("a quoted single word is an ordinary word; an unclosed quote runs to the end", () => {
    expect(parseSearch('"timeout"')).toEqual({ words: ["timeout"], phrases: [], excluded: [] });
    expect(parseSearch('x "a b')).toEqual({ words: ["x"], phrases: [["a", "b"]], excluded: [] });
  });

  test("a leading minus excludes", () => {
    expect(parseSearch("error -debug -Retry")).toEqual({
      words: ["error"],
      phrases: [],
      excluded: ["debug", "retry"],
    });
  });

  test("punctuation separates words, as in the messages", () => {
    expect(parseSearch("user=alice")).toEqual({ words: ["user", "alice"], phrases: [], excluded: [] });
  });

  test("a query of only exclusions has no positive terms", () => {
    const t = parseSearch("-noise");
    expect(hasPositiveTerms(t)).toBe(false);
    expect(positiveWords(parseSearch('a "b c" -d'))).toEqual(["a", "b", "c"]);
  });

  test("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const t = parseSearch(text);
        for (const w of [...t.words, ...t.excluded, ...t.phrases.flat()])
          expect(w).toMatch(/^[\p{L}\p{N}]+$/u);
      }),
    );
  });
});

describe("matchTerms", () => {
  const match = (query: string, message: string) => matchTerms(parseSearch(query), message);

  test("every word must occur (AND), in any order, and the matched terms are reported", () => {
    expect(match("disk full", "FULL: the Disk is")).toEqual(["disk", "full"]);
    expect(match("disk full", "the disk is fine")).toBeUndefined();
  });

  test("matches whole words only", () => {
    expect(match("time", "timeout reached")).toBeUndefined();
    expect(match("timeout", "timeout reached")).toEqual(["timeout"]);
  });

  test("a phrase must occur adjacent and in order", () => {
    expect(match('"connection reset"', "Connection reset by peer")).toEqual(['"connection reset"']);
    expect(match('"connection reset"', "reset connection")).toBeUndefined();
    expect(match('"connection reset"', "connection was reset")).toBeUndefined();
  });

  test("an excluded word rejects the message", () => {
    expect(match("error -retry", "error, will retry")).toBeUndefined();
    expect(match("error -retry", "error, giving up")).toEqual(["error"]);
    expect(match("-retry", "all good")).toEqual([]);
  });

  test("is case-insensitive both ways", () => {
    expect(match("ALICE", "user=alice")).toEqual(["alice"]);
    expect(match("alice", "USER=ALICE")).toEqual(["alice"]);
  });

  test("a message matches any query built from its own words", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z0-9]{1,8}$/), { minLength: 1, maxLength: 8 }), (words) => {
        const message = words.join(" ");
        expect(match(words.join(" "), message)).toBeDefined();
        expect(match(`"${words.join(" ")}"`, message)).toBeDefined();
        expect(tokenize(message)).toEqual(words);
      }),
    );
  });
});
