// New event ids: UUIDv7 from the uuidv7 package, its canonical text written out as one flat string.

import { uuidv7obj } from "uuidv7";

const HEX = Buffer.from("0123456789abcdef", "latin1");
const DASH = 0x2d;
/** Scratch space for the text of one id; filled and decoded synchronously, so one is enough. */
const text = Buffer.alloc(36);

/**
 * A new UUIDv7 as uuidv7() writes it (8-4-4-4-12 lower-case hex). uuidv7() builds the text one character at
 * a time, which in Bun leaves a 36-part rope that every JSON.stringify of the event (its bus message, the
 * answer) must flatten: about 1 µs per event. Decoded from bytes at once, the text is flat.
 */
export const newEventId = (): string => {
  const bytes = uuidv7obj().bytes;
  let at = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = DASH;
    const byte = bytes[i] ?? 0;
    text[at++] = HEX[byte >>> 4] ?? 0;
    text[at++] = HEX[byte & 15] ?? 0;
  }
  return text.toString("latin1", 0, 36);
};
