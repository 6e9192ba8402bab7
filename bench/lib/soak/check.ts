// The soak's proof: read every stored id from the store itself (PostgreSQL or SQLite), find each acknowledged
// id once, nothing twice, nothing never sent; ask the gateway for acknowledged ids; compare stats with the rows.

import { Database } from "bun:sqlite";
import postgres from "postgres";
import { visibleWatermark } from "../../../src/adapters/store/postgres/reader.ts";
import type { Ledger } from "./ledger.ts";

export interface Verdict {
  rows: number;
  distinctIds: number;
  /** Rows beyond the first of their id. */
  duplicated: number;
  /** Acknowledged ids not stored. */
  lost: number;
  /** Stored ids this run never sent. */
  phantom: number;
  /** Rows of the dedupe table (PostgreSQL), which must equal the rows. */
  dedupeIds: number | undefined;
  asyncStored: number;
  asyncLost: number;
  byIdChecked: number;
  byIdMissing: number;
  stats: { totalLogs: number; levelSum: number; sourceSum: number; histogramSum: number };
  statsMatch: boolean;
  examples: { lost: string[]; duplicated: string[]; phantom: string[] };
}

export interface StoreReader {
  /** Every stored id, as many times as it is stored. */
  ids(): AsyncIterable<string[]>;
  dedupeIds(): Promise<number | undefined>;
  /** Highest committed arrival sequence (the takeover probe). */
  watermark(): Promise<number>;
  close(): Promise<void>;
}

export const postgresReader = (url: string): StoreReader => {
  const sql = postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 5, idle_timeout: 30 });
  return {
    async *ids() {
      for await (const rows of sql<{ id: string }[]>`select id from log_events`.cursor(50_000))
        yield rows.map((r) => r.id);
    },
    async dedupeIds() {
      const [r] = await sql<{ n: number }[]>`select count(*)::int as n from log_event_ids`;
      return r?.n ?? 0;
    },
    watermark: () => visibleWatermark(sql),
    close: () => sql.end({ timeout: 5 }),
  };
};

export const sqliteReader = (file: string): StoreReader => {
  const db = new Database(file, { readonly: true });
  return {
    async *ids() {
      const all = db.query<{ id: string }, []>("select id from log_events").all();
      for (let i = 0; i < all.length; i += 50_000) yield all.slice(i, i + 50_000).map((r) => r.id);
    },
    dedupeIds: async () => undefined,
    watermark: async () => db.query<{ s: number }, []>("select max(seq) as s from log_events").get()?.s ?? 0,
    close: async () => db.close(),
  };
};

const json = async (url: string): Promise<{ status: number; body: unknown }> => {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, body: await res.json().catch(() => undefined) };
};

const sum = (o: unknown): number =>
  Object.values((o ?? {}) as Record<string, number>).reduce((s, n) => s + Number(n), 0);

/** Counts every stored id against the ledger; checks up to `sample` acknowledged ids through the gateway. */
export const verify = async (
  store: StoreReader,
  ledger: Ledger,
  gatewayPort: number,
  sample: number,
): Promise<Verdict> => {
  const seen = new Map<string, number>();
  let rows = 0;
  for await (const chunk of store.ids())
    for (const id of chunk) {
      rows++;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  const examples = { lost: [] as string[], duplicated: [] as string[], phantom: [] as string[] };
  /** Counts one more and keeps the first ten as examples. */
  const note = (list: string[], what: string): number => {
    if (list.length < 10) list.push(what);
    return 1;
  };
  let duplicated = 0;
  let phantom = 0;
  for (const [id, n] of seen) {
    if (n > 1) duplicated += (n - 1) * note(examples.duplicated, `${id} x${n}`);
    if (!ledger.sent.has(id)) phantom += note(examples.phantom, id);
  }
  let lost = 0;
  for (const id of ledger.acked) if (!seen.has(id)) lost += note(examples.lost, id);
  let asyncStored = 0;
  for (const id of ledger.asyncIds) if (seen.has(id)) asyncStored++;

  const base = `http://127.0.0.1:${gatewayPort}/gateway/api/query`;
  const acked = [...ledger.acked];
  const step = Math.max(1, Math.floor(acked.length / sample));
  let byIdChecked = 0;
  let byIdMissing = 0;
  for (let i = 0; i < acked.length; i += step) {
    const id = acked[i] as string;
    const r = await json(`${base}/logs/${encodeURIComponent(id)}`);
    byIdChecked++;
    if (r.status !== 200 || (r.body as { id?: string } | undefined)?.id !== id) byIdMissing++;
  }
  const s = await json(`${base}/stats`);
  const body = (s.body ?? {}) as Record<string, unknown>;
  const stats = {
    totalLogs: Number(body.totalLogs ?? -1),
    levelSum: sum(body.levelCounts),
    sourceSum: sum(body.sourceCounts),
    histogramSum: ((body.histogram ?? []) as { count: number }[]).reduce((t, b) => t + b.count, 0),
  };
  return {
    rows,
    distinctIds: seen.size,
    duplicated,
    lost,
    phantom,
    dedupeIds: await store.dedupeIds(),
    asyncStored,
    asyncLost: ledger.asyncIds.size - asyncStored,
    byIdChecked,
    byIdMissing,
    stats,
    statsMatch:
      s.status === 200 &&
      stats.totalLogs === rows &&
      stats.levelSum === rows &&
      stats.sourceSum === rows &&
      stats.histogramSum === rows,
    examples,
  };
};
