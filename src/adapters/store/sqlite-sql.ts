// SQL fragments shared by the embedded store's queries: filters, keyset, and FTS5 query text.

import type { LogFilter, LogQuery } from "../../domain/query.ts";
import type { SearchTerms } from "../../domain/search-syntax.ts";

export type Binding = string | number | bigint | null;

export interface Where {
  sql: string;
  params: Binding[];
}

export const filterWhere = (f: LogFilter, alias = ""): Where => {
  const a = alias ? `${alias}.` : "";
  const parts = [`${a}ts >= ?`, `${a}ts <= ?`];
  const params: Binding[] = [f.start, f.end];
  if (f.levels.length) {
    parts.push(`${a}level IN (${f.levels.map(() => "?").join(",")})`);
    params.push(...f.levels);
  }
  if (f.sources.length) {
    parts.push(`${a}source IN (${f.sources.map(() => "?").join(",")})`);
    params.push(...f.sources);
  }
  return { sql: parts.join(" AND "), params };
};

export const keysetWhere = (q: { cursor?: { ts: number; id: string } | undefined }, alias = ""): Where => {
  if (!q.cursor) return { sql: "1", params: [] };
  const a = alias ? `${alias}.` : "";
  return {
    sql: `(${a}ts < ? OR (${a}ts = ? AND ${a}id < ?))`,
    params: [q.cursor.ts, q.cursor.ts, q.cursor.id],
  };
};

/** The snapshot bound of a listing (seq is the rowid, so the check costs nothing on an index walk). */
export const snapshotWhere = (q: LogQuery, alias = ""): Where => {
  if (q.maxSeq === undefined) return { sql: "1", params: [] };
  return { sql: `${alias ? `${alias}.` : ""}seq <= ?`, params: [q.maxSeq] };
};

const quote = (token: string): string => `"${token.replaceAll('"', '""')}"`;

/**
 * FTS5 MATCH text of the whole query over the token index (log_terms): words and phrases ANDed, each
 * exclusion a NOT. Undefined without a positive term (FTS5's NOT needs something to subtract from).
 */
export const ftsQuery = (t: SearchTerms): string | undefined => {
  const positive = [...t.words.map(quote), ...t.phrases.map((p) => quote(p.join(" ")))];
  if (!positive.length) return undefined;
  const excluded = [...t.excluded.map(quote), ...(t.excludedPhrases ?? []).map((p) => quote(p.join(" ")))];
  return [`(${positive.join(" AND ")})`, ...excluded].join(" NOT ");
};

/** FTS5 MATCH text of any exclusion of the query (what an exclusion-only search leaves out), if any. */
export const ftsExcluded = (t: SearchTerms): string | undefined => {
  const excluded = [...t.excluded.map(quote), ...(t.excludedPhrases ?? []).map((p) => quote(p.join(" ")))];
  return excluded.length ? excluded.join(" OR ") : undefined;
};
