// Request ids: UUIDv7 (RFC 9562) made cheaply enough for every request of a hot path.
//
// 48 bits of Unix milliseconds, the version, 74 random bits (rand_a and rand_b, the "random" method of
// the RFC) and the variant. The hexadecimal time prefix is formatted once per millisecond and the random
// bits come from a pooled buffer, so an id costs a few table lookups. Ids sort by their millisecond;
// within one millisecond their order is random (nothing orders requests by id).

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const POOL_BYTES = 4096;
/** rand_a (12 bits) and rand_b (62 bits) take 10 random bytes, whose top bits the version and variant replace. */
const ID_BYTES = 10;

const pool = new Uint8Array(POOL_BYTES);
let used = POOL_BYTES;
let prefixMs = -1;
let prefix = "";

const timePrefix = (ms: number): string => {
  if (ms !== prefixMs) {
    const t = ms.toString(16).padStart(12, "0");
    prefix = `${t.slice(0, 8)}-${t.slice(8, 12)}-7`;
    prefixMs = ms;
  }
  return prefix;
};

const hex = (byte: number | undefined): string => HEX[byte as number] as string;

/** A new UUIDv7 string, lower case. */
export const requestUuid = (now: number = Date.now()): string => {
  if (used + ID_BYTES > POOL_BYTES) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  const b = pool;
  const i = used;
  used += ID_BYTES;
  return (
    `${timePrefix(now)}${hex((b[i] as number) & 0x0f)[1]}${hex(b[i + 1])}-` +
    `${hex(((b[i + 2] as number) & 0x3f) | 0x80)}${hex(b[i + 3])}-` +
    `${hex(b[i + 4])}${hex(b[i + 5])}${hex(b[i + 6])}${hex(b[i + 7])}${hex(b[i + 8])}${hex(b[i + 9])}`
  );
};
