// Protobuf string fields: every byte string decodes as a TextDecoder decodes it, interned or not.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readerOf, readString } from "../../src/http/ingest/proto-wire.ts";

const UTF8 = new TextDecoder("utf-8");

/** A body of length-delimited strings (one-byte lengths), as a message's string fields are laid out. */
const bodyOf = (strings: Uint8Array[]): Uint8Array => {
  const out: number[] = [];
  for (const s of strings) out.push(s.length, ...s);
  return Uint8Array.from(out);
};

// Bytes around the UTF-8 edge cases: ASCII, continuation bytes, lead bytes of every width, invalid ones.
const byte = fc.constantFrom(
  0x00,
  0x41,
  0x7f,
  0x80,
  0xbf,
  0xc0,
  0xc2,
  0xdf,
  0xe0,
  0xed,
  0xef,
  0xf0,
  0xf4,
  0xff,
);
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.array(byte, { maxLength: 40 }).map((xs) => Uint8Array.from(xs)),
);

describe("readString", () => {
  test("decodes any bytes, short or long, repeated or not, as TextDecoder does (U+FFFD for invalid UTF-8)", () => {
    fc.assert(
      fc.property(fc.array(bytes, { minLength: 1, maxLength: 12 }), (strings) => {
        // Each string twice: the second read of a short ASCII one comes from the body's interned table.
        const all = [...strings, ...strings];
        const r = readerOf(bodyOf(all));
        for (const s of all) expect(readString(r)).toBe(UTF8.decode(s));
        expect(r.pos).toBe(r.len);
      }),
      { numRuns: 2000 },
    );
  });
});
