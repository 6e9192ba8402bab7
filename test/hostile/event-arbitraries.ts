// fast-check arbitraries of log events, each field valid or invalid by construction, with the body they make.
//
// Every field is either valid or invalid by construction (NUL and lone surrogates injected, limits crossed
// by a computed amount, wrong JSON types, absent), so every generated body carries its expected verdict:
// accepted, or a 400 naming exactly the invalid fields.

import fc from "fast-check";

const MAX_MESSAGE_BYTES = 32 * 1024;
const MAX_METADATA_BYTES = 16 * 1024;
const MAX_DEPTH = 8;
const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
export const FIELDS = ["level", "message", "source", "timestamp", "id", "metadata"] as const;
export type Field = (typeof FIELDS)[number];

/** Characters that break COPY text format, SQL, LIKE, tsquery and FTS5 query syntax, and other oddities. */
const METACHARACTERS = [
  "'",
  "''",
  '"',
  "%",
  "_",
  "\\",
  "\\.",
  "\\N",
  "\\\\",
  "&",
  "|",
  "!",
  ":*",
  "<->",
  "<2>",
  "(",
  ")",
  "*",
  "^",
  "-",
  "+",
  ":",
  ";",
  "--",
  "/*",
  "$$",
  "{",
  "}",
  "NEAR",
  "AND",
  "OR",
  "NOT",
  "\t",
  "\n",
  "\r",
  "\r\n",
  "\u000b",
  "\u000c",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\ufeff",
  "\u200b",
  "\u202e",
  "\u0301",
  "\ufffd",
  "\uffff",
  "😀",
  "👩‍👩‍👧",
  "İ",
  "ß",
  "中",
  "ש",
  "½",
  " ",
  "  ",
];
const WORDS = ["error", "alpha", "beta", "x1", "select", "drop", "log", "a", "Z", "42"];

const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...METACHARACTERS) },
  { weight: 3, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 0x1f }).map((c) => String.fromCharCode(c)) },
);
/** Text without NUL or lone surrogates: storable by construction. */
export const hostileText = (minLength: number, maxLength: number) =>
  fc.array(hostileChar, { minLength, maxLength }).map((parts) => parts.join(""));

/** Makes a storable string unstorable: a NUL or a lone surrogate at a random place. */
const poisoned = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(base, fc.constantFrom("\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800"), fc.nat())
    .map(([s, bad, at]) => {
      const cut = s.length ? at % (s.length + 1) : 0;
      // Never split a surrogate pair of the base: that would make a second, unplanned defect.
      const safe = cut > 0 && /[\ud800-\udbff]/.test(s[cut - 1] ?? "") ? cut - 1 : cut;
      return s.slice(0, safe) + bad + s.slice(safe);
    });

const wrongType = fc.oneof(
  fc.integer().map((n) => JSON.stringify(n)),
  fc.constantFrom("true", "false", "null", "[]", "{}", '["x"]', '{"a":1}', "1.5", "-0"),
);

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

/** A field: absent, or JSON text; `ok` is the verdict the schema must reach for it. */
interface Gen {
  text: string | undefined;
  ok: boolean;
}
const valid = (a: fc.Arbitrary<string | undefined>) => a.map((text): Gen => ({ text, ok: true }));
const invalid = (a: fc.Arbitrary<string | undefined>) => a.map((text): Gen => ({ text, ok: false }));
const str = (a: fc.Arbitrary<string>) => a.map((s) => JSON.stringify(s));
const ABSENT = fc.constant(undefined);

/** Each field is valid nine times in ten: about half the events are valid as a whole. */
const field = (good: fc.Arbitrary<Gen>, bad: fc.Arbitrary<Gen>) =>
  fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: bad });

const level = field(
  valid(
    str(
      fc
        .tuple(fc.constantFrom(...LEVELS), fc.boolean(), fc.constantFrom("", " ", "\t", "  "))
        .map(([l, lower, pad]) => `${pad}${lower ? l.toLowerCase() : l}${pad}`),
    ),
  ),
  fc.oneof(
    invalid(str(hostileText(0, 8).filter((s) => !LEVELS.includes(s.trim().toUpperCase())))),
    invalid(fc.oneof(wrongType, ABSENT)),
  ),
);

const longText = (bytes: number) =>
  hostileText(5, 20).map((unit) => {
    const n = Math.max(1, Math.floor(bytes / Math.max(1, utf8(unit))));
    return unit.repeat(n);
  });
/** The verdict of a message is computed, not assumed: a repeated unit may land on either side of the limit. */
const judgeMessage = (s: string): Gen => ({
  text: JSON.stringify(s),
  ok: s.length > 0 && utf8(s) <= MAX_MESSAGE_BYTES,
});
const message = field(
  fc
    .oneof({ weight: 9, arbitrary: hostileText(1, 60) }, { weight: 1, arbitrary: longText(30_000) })
    .map(judgeMessage),
  fc.oneof(
    longText(34_000).map(judgeMessage),
    invalid(str(poisoned(hostileText(0, 30)))),
    invalid(fc.oneof(wrongType, ABSENT, fc.constant('""'))),
  ),
);

const source = field(
  hostileText(1, 30).map((s): Gen => ({ text: JSON.stringify(s), ok: s.length > 0 && [...s].length <= 100 })),
  fc.oneof(
    hostileText(60, 120).map((s): Gen => ({ text: JSON.stringify(s), ok: [...s].length <= 100 })),
    invalid(str(poisoned(hostileText(0, 20)))),
    invalid(fc.oneof(wrongType, ABSENT, fc.constant('""'))),
  ),
);

const timestamp = field(
  fc.oneof(
    valid(fc.oneof(ABSENT, fc.constant("null"))),
    valid(fc.integer({ min: 0, max: MAX_TIME_MS }).map(String)),
    valid(
      fc
        .date({ min: new Date(0), max: new Date(MAX_TIME_MS), noInvalidDate: true })
        .map((d) => JSON.stringify(d.toISOString())),
    ),
  ),
  fc.oneof(
    invalid(
      fc.oneof(
        fc.integer({ min: -1e12, max: -1 }).map(String),
        fc.integer({ min: MAX_TIME_MS + 1, max: Number.MAX_SAFE_INTEGER }).map(String),
        fc.constantFrom("1.5", "true", "[]", "{}", '"yesterday"', '"2024-13-01T00:00:00Z"', "1e400"),
      ),
    ),
    invalid(str(hostileText(1, 10).map((s) => `x${s}`))),
  ),
);

/** Ids get a unique prefix when sent (see bodyOf): here only their hostile suffix and verdict. */
interface IdGen {
  kind: "absent" | "null" | "suffix" | "raw";
  text: string;
  ok: boolean;
}
const id = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.constantFrom<IdGen>(
      { kind: "absent", text: "", ok: true },
      { kind: "null", text: "", ok: true },
    ),
  },
  { weight: 9, arbitrary: hostileText(0, 12).map((s): IdGen => ({ kind: "suffix", text: s, ok: true })) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      poisoned(hostileText(0, 8)).map((s) => ({ kind: "suffix" as const, text: s, ok: false })),
      fc.constantFrom<IdGen>(
        { kind: "raw", text: '""', ok: false },
        { kind: "raw", text: '"."', ok: false },
        { kind: "raw", text: '".."', ok: false },
        { kind: "raw", text: "7", ok: false },
        { kind: "raw", text: "[]", ok: false },
      ),
      fc
        .integer({ min: 65, max: 200 })
        .map((n): IdGen => ({ kind: "raw", text: JSON.stringify("i".repeat(n)), ok: false })),
    ),
  },
);

/** Metadata as JSON text (keys like "__proto__" survive), with its verdict computed from the parsed value. */
const metaKey = fc.oneof(
  hostileText(0, 6),
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "", "a.b", "$where", "\\."),
);
const metaTree = fc.letrec<{ value: string; object: string; array: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 5 },
    str(hostileText(0, 12)),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    fc.integer().map(String),
    fc.constantFrom(
      "true",
      "false",
      "null",
      "123456789012345678901234567890",
      "-0",
      "1E+2",
      "5e-324",
      "1.7976931348623157e308",
    ),
    tie("array"),
    tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 4 }).map((xs) => `[${xs.join(",")}]`),
  object: fc
    .array(fc.tuple(metaKey, tie("value")), { maxLength: 5 })
    .map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
}));
const depthOf = (v: unknown): number =>
  v === null || typeof v !== "object" ? 0 : 1 + Math.max(0, ...Object.values(v as object).map(depthOf));
const judgeMeta = (text: string): Gen => {
  const v = JSON.parse(text) as unknown;
  return { text, ok: depthOf(v) <= MAX_DEPTH && utf8(JSON.stringify(v)) <= MAX_METADATA_BYTES };
};
const nestedText = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
const metadata = fc.oneof(
  { weight: 6, arbitrary: valid(fc.oneof(ABSENT, fc.constant("null"), fc.constant("{}"))) },
  { weight: 12, arbitrary: metaTree.object.map(judgeMeta) },
  {
    weight: 1,
    arbitrary: invalid(
      fc.oneof(metaTree.array, str(hostileText(0, 5)), fc.constantFrom("1", "true", "-1e400")),
    ),
  },
  {
    weight: 1,
    arbitrary: invalid(
      fc
        .tuple(metaKey, poisoned(hostileText(0, 8)), fc.boolean())
        .map(([k, bad, asKey]) =>
          asKey
            ? `{${JSON.stringify(bad)}:1,${JSON.stringify(k)}:2}`
            : `{${JSON.stringify(k)}:[${JSON.stringify(bad)}]}`,
        ),
    ),
  },
  {
    weight: 1,
    arbitrary: invalid(
      fc.oneof(
        fc.integer({ min: MAX_DEPTH + 1, max: 40 }).map(nestedText),
        fc.constantFrom('{"n":1e400}', '{"a":[1,-1e999]}'),
        fc.integer({ min: 1, max: 500 }).map((n) => `{"k":"${"x".repeat(MAX_METADATA_BYTES - 7 + n)}"}`),
      ),
    ),
  },
);

export interface GenEvent {
  fields: Record<Field, Gen | IdGen>;
  extra: string | undefined;
}

export const eventArb: fc.Arbitrary<GenEvent> = fc.record({
  fields: fc.record({ level, message, source, timestamp, id, metadata }),
  extra: fc.option(
    fc.constantFrom(
      '"extra":{"__proto__":{"polluted":1}}',
      '"constructor":{"prototype":{"x":1}}',
      '"unknown":[[[]]]',
    ),
    { nil: undefined },
  ),
});

let idCounter = 0;
/** The JSON body of a generated event; ids are made unique here so reruns and shrinking never collide. */
export const bodyOf = (e: GenEvent, run: string): string => {
  const parts: string[] = [];
  for (const f of FIELDS) {
    const g = e.fields[f];
    if (f === "id") {
      const i = g as IdGen;
      if (i.kind === "null") parts.push('"id":null');
      else if (i.kind === "raw") parts.push(`"id":${i.text}`);
      else if (i.kind === "suffix") {
        const prefix = `${run}f${(idCounter++).toString(36)}`;
        // Keep a valid id within 64 UTF-16 units without cutting a surrogate pair in two.
        const room = 64 - prefix.length;
        const suffix = i.ok
          ? Array.from(i.text).reduce((acc, ch) => (acc.length + ch.length <= room ? acc + ch : acc), "")
          : i.text;
        parts.push(`"id":${JSON.stringify(prefix + suffix)}`);
      }
      continue;
    }
    const text = (g as Gen).text;
    if (text !== undefined) parts.push(`${JSON.stringify(f)}:${text}`);
  }
  if (e.extra) parts.push(e.extra);
  return `{${parts.join(",")}}`;
};

export const invalidFields = (e: GenEvent): Field[] => FIELDS.filter((f) => !e.fields[f].ok);
