// Rows for the write path: each event checked and encoded as COPY text once, ahead of the transaction.

import { UnstorableError } from "../../../domain/errors.ts";
import { findUnstorable, unstorableReason } from "../../../domain/text.ts";
import { MAX_TIME_MS, MIN_TIME_MS } from "../../../domain/time.ts";
import type { SourcedEvent } from "../../../ports/log-store.ts";
import { CHUNK_CHARS, type ChunkSource, copyText } from "./copy.ts";
import { tsvectorText } from "./tsv.ts";

// Native checks first: the regexes of unstorableReason run only for a value that fails them.
const storable = (value: string): boolean => !value.includes("\u0000") && value.isWellFormed();

/** An event ready for the COPY: its claim key and time, and its row text after the seq and created_at fields. */
export interface Encoded {
  id: string;
  ts: string;
  tail: string;
}

/**
 * Refuses what PostgreSQL would refuse inside the COPY, before it starts (postgres.js reports a refused COPY
 * only through our hook in copy.ts; a lone surrogate would silently become U+FFFD), and encodes the row.
 * JSON.stringify writes NUL and lone surrogates in metadata as \u escapes, which jsonb refuses.
 */
export const encode = ({ event: e, partition, offset }: SourcedEvent): Encoded => {
  const where = () => `event ${JSON.stringify(e.id)} at ${partition}/${offset}`;
  if (!(storable(e.id) && storable(e.source) && storable(e.level) && storable(e.message))) {
    const reason =
      unstorableReason(e.id) ??
      unstorableReason(e.source) ??
      unstorableReason(e.level) ??
      unstorableReason(e.message);
    if (reason) throw new UnstorableError(`${where()}: ${reason}`);
  }
  if (!(Number.isSafeInteger(e.timestamp) && e.timestamp >= MIN_TIME_MS && e.timestamp <= MAX_TIME_MS))
    throw new UnstorableError(`${where()}: timestamp ${e.timestamp} is outside years 1970..9999`);
  let metadata = "\\N";
  if (e.metadata !== null) {
    const json = JSON.stringify(e.metadata);
    if (json.includes("\\u")) {
      const bad = findUnstorable(e.metadata);
      if (bad) throw new UnstorableError(`${where()}: metadata${bad.path} ${bad.reason}`);
    }
    metadata = copyText(json);
  }
  const ts = new Date(e.timestamp).toISOString();
  const tail = `\t${ts}\t${copyText(e.id)}\t${copyText(e.level)}\t${copyText(e.source)}\t${copyText(
    e.message,
  )}\t${metadata}\t${tsvectorText(e.message)}\t${partition}\t${copyText(offset)}\n`;
  // Reading a character makes the engine flatten the template's pieces into one string now: a COPY chunk
  // made of thousands of unflattened rows costs several times more to encode as UTF-8.
  tail.charCodeAt(0);
  return { id: e.id, ts, tail };
};

/** COPY text of the fresh rows, in batch order with seq from `base + 1`, one chunk at a time. */
export const encoder = (rows: Encoded[], base: number, createdAt: string): ChunkSource => {
  let i = 0;
  return () => {
    if (i >= rows.length) return undefined;
    let chunk = "";
    while (i < rows.length && chunk.length < CHUNK_CHARS) {
      chunk += `${base + i + 1}\t${createdAt}${(rows[i] as Encoded).tail}`;
      i++;
    }
    return chunk;
  };
};
