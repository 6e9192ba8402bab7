// Embedded search: a short newest-first walk serves common terms, the token index (FTS5) serves rare ones.
//
// As on PostgreSQL, no single plan serves both: sorting every index match by time is slow for a word in a
// third of the rows, and walking the window by time is slow for a rare one. So the search walks the newest
// rows of the window in chunks (a cheap substring check before the exact matcher), and once the hit rate
// it saw says the page would not fill within the walk budget, it asks the token index for the rest of the
// page, ordered by time. The index holds logproc's own tokens, so its answer is exact; the matcher still
// names the terms each hit matched. Totals come from the index (bounded) or, for a term too common to
// count cheaply, from the walk's hit rate over the exact row count of the window, flagged as an estimate.

import type { Database } from "bun:sqlite";
import { EXACT_TOTAL_BOUND, type LogPage, type PageItem, type SearchQuery } from "../../domain/query.ts";
import { matchTerms, positiveWords } from "../../domain/search-syntax.ts";
import { COLUMNS, type EventRow, eventOf } from "./sqlite-rows.ts";
import {
  type Binding,
  filterWhere,
  ftsExcluded,
  ftsQuery,
  keysetWhere,
  snapshotWhere,
} from "./sqlite-sql.ts";
import type { createTotals } from "./sqlite-totals.ts";

/** Rows one walk step reads. */
const CHUNK = 500;
/** Rows the walk may read before the index takes over (when there is a positive term). */
const WALK_BUDGET = 5_000;
/** Hits of the walk that make its rate a fair estimate of a common term's total (about ±20 %). */
const MIN_SAMPLE_HITS = 25;
/** Rows an exclusion-only search may walk (no index can narrow it). */
const SCAN_BOUND = 50_000;

interface Key {
  seq: number;
  ts: number;
  id: string;
}

/** Positive when `a` comes after `b` in (ts desc, id desc) order: ids compared as SQLite does, by UTF-8 bytes. */
const newestFirst = (a: Pick<Key, "ts" | "id">, b: Pick<Key, "ts" | "id">): number =>
  a.ts !== b.ts ? b.ts - a.ts : Buffer.compare(Buffer.from(b.id), Buffer.from(a.id));

interface State {
  /** Matches of the whole window, when the index step counted them. */
  indexed?: number;
  /** The matches so far, as keys: only the page's rows are read whole, at the end. */
  found: Key[];
  pos: { ts: number; id: string } | undefined;
  walked: number;
  /** Rows that matched among those walked. */
  hits: number;
  covered: boolean;
}

export const createSqliteSearch = (db: Database, totals: ReturnType<typeof createTotals>) => {
  const all = (sql: string, params: Binding[]): EventRow[] =>
    db.query<EventRow, Binding[]>(sql).all(...params);

  /** Reads the next chunk newest first and keeps the matches, stopping at the row that fills the page. */
  const walkStep = (q: SearchQuery, s: State, need: number, words: string[]): void => {
    const f = filterWhere(q);
    const snap = snapshotWhere(q);
    const k = keysetWhere({ ...q, ...(s.pos ? { cursor: s.pos } : {}) });
    // Keys and messages only: metadata is read for the page's rows alone.
    const rows = db
      .query<Key & { message: string }, Binding[]>(
        `SELECT seq, ts, id, message FROM log_events WHERE ${f.sql} AND ${snap.sql} AND ${k.sql}
         ORDER BY ts DESC, id DESC LIMIT ?`,
      )
      .all(...f.params, ...snap.params, ...k.params, CHUNK);
    for (const r of rows) {
      s.walked++;
      s.pos = { ts: r.ts, id: r.id };
      const lower = words.length ? r.message.toLowerCase() : "";
      if (!words.every((w) => lower.includes(w))) continue;
      if (!matchTerms(q.terms, r.message)) continue;
      s.hits++;
      s.found.push({ seq: r.seq, ts: r.ts, id: r.id });
      if (s.found.length >= need) return;
    }
    if (rows.length < CHUNK) s.covered = true;
  };

  /**
   * The rest of the page from the token index, as keys in time order after the walk's position. A term
   * with at most EXACT_TOTAL_BOUND matches in the window is read in one pass of keys (which also gives its
   * exact total) and sorted here; a more common one is sorted by SQLite.
   */
  const indexStep = (q: SearchQuery, s: State, need: number, match: string): void => {
    const f = filterWhere(q, "e");
    const snap = snapshotWhere(q, "e");
    const want = need - s.found.length;
    // CROSS JOIN keeps the index as the outer loop: a rare term's few rows are looked up, not the window.
    const keys = db
      .query<Key, Binding[]>(
        `SELECT e.seq AS seq, e.ts AS ts, e.id AS id FROM log_terms t CROSS JOIN log_events e ON e.seq = t.rowid
         WHERE log_terms MATCH ? AND ${f.sql} AND ${snap.sql} LIMIT ?`,
      )
      .all(match, ...f.params, ...snap.params, EXACT_TOTAL_BOUND + 1);
    if (keys.length <= EXACT_TOTAL_BOUND) {
      s.indexed = keys.length;
      const pos = s.pos;
      const next = (pos ? keys.filter((k) => newestFirst(k, pos) > 0) : keys).sort(newestFirst);
      s.found.push(...next.slice(0, want));
      if (next.length <= want) s.covered = true;
      return;
    }
    const k = keysetWhere({ ...(s.pos ? { cursor: s.pos } : {}) }, "e");
    const rows = db
      .query<Key, Binding[]>(
        `SELECT e.seq AS seq, e.ts AS ts, e.id AS id FROM log_terms t CROSS JOIN log_events e ON e.seq = t.rowid
         WHERE log_terms MATCH ? AND ${f.sql} AND ${snap.sql} AND ${k.sql} ORDER BY e.ts DESC, e.id DESC LIMIT ?`,
      )
      .all(match, ...f.params, ...snap.params, ...k.params, want);
    s.found.push(...rows);
    if (rows.length < want) s.covered = true;
  };

  /** The page's rows read whole, in the order of their keys, each with the terms it matched. */
  const pageOf = (q: SearchQuery, keys: Key[]): PageItem[] => {
    if (!keys.length) return [];
    const bySeq = new Map(
      all(`SELECT ${COLUMNS} FROM log_events WHERE seq IN (${keys.map(() => "?").join(",")})`, [
        ...keys.map((k) => k.seq),
      ]).map((r) => [r.seq, r]),
    );
    return keys.flatMap((k) => {
      const r = bySeq.get(k.seq);
      // The index holds the same tokens the matcher reads, so every hit names what it matched.
      return r ? [{ ...eventOf(r), matched: matchTerms(q.terms, r.message) ?? [] }] : [];
    });
  };

  /** Rows of the window that the index matches for this MATCH text, counted up to the bound + 1. */
  const countIndexed = (q: SearchQuery, match: string): number => {
    const f = filterWhere(q, "e");
    const snap = snapshotWhere(q, "e");
    return (
      db
        .query<{ n: number }, Binding[]>(
          `SELECT count(*) AS n FROM (SELECT 1 FROM log_terms t CROSS JOIN log_events e ON e.seq = t.rowid
           WHERE log_terms MATCH ? AND ${f.sql} AND ${snap.sql} LIMIT ?)`,
        )
        .get(match, ...f.params, ...snap.params, EXACT_TOTAL_BOUND + 1)?.n ?? 0
    );
  };

  /**
   * Matches in the whole window: counted through the index up to the bound, else estimated from the walk's
   * hit rate. An exclusion-only search counts what it leaves out and takes it from the window's rows.
   */
  const total = (q: SearchQuery, s: State, match: string | undefined): { total: number; exact: boolean } => {
    if (s.indexed !== undefined) return { total: s.indexed, exact: true };
    const window = totals.count(q);
    const estimate = Math.max(s.found.length, Math.round((s.hits / Math.max(1, s.walked)) * window.total));
    if (match === undefined) {
      const excluded = ftsExcluded(q.terms);
      const n = excluded === undefined ? 0 : countIndexed(q, excluded);
      if (n > EXACT_TOTAL_BOUND || !window.exact) return { total: estimate, exact: false };
      return { total: window.total - n, exact: true };
    }
    if (s.hits >= MIN_SAMPLE_HITS && estimate > EXACT_TOTAL_BOUND / 2)
      return { total: estimate, exact: false };
    const n = countIndexed(q, match);
    return n > EXACT_TOTAL_BOUND ? { total: Math.max(n, estimate), exact: false } : { total: n, exact: true };
  };

  return (q: SearchQuery): LogPage => {
    const match = ftsQuery(q.terms);
    const words = positiveWords(q.terms);
    const skip = q.cursor ? 0 : q.page * q.size;
    const need = skip + q.size + 1;
    const s: State = { found: [], pos: q.cursor, walked: 0, hits: 0, covered: false };
    const budget = match === undefined ? SCAN_BOUND : WALK_BUDGET;
    while (!s.covered && s.found.length < need && s.walked < budget) {
      walkStep(q, s, need, words);
      // Rows still to walk at the rate seen so far (one more hit than seen: an upper bound on the rate).
      const more = ((need - s.found.length) * s.walked) / (s.hits + 1);
      if (match !== undefined && s.walked + more > budget) break;
    }
    if (!s.covered && s.found.length < need && match !== undefined) indexStep(q, s, need, match);
    const items = pageOf(q, s.found.slice(skip, skip + q.size));
    const complete = s.covered || s.found.length >= need;
    const hasMore = s.found.length > skip + q.size || (!complete && items.length > 0);
    if (s.covered && !q.cursor) return { items, total: s.found.length, totalExact: true, hasMore };
    const t = total(q, s, match);
    return { items, total: t.total, totalExact: t.exact, hasMore };
  };
};
