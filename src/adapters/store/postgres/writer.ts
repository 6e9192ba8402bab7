// The write path: in one transaction claim the ids, take seq from the watermark, COPY the fresh rows straight into log_events, roll up, advance offsets.

import { UnstorableError } from "../../../domain/errors.ts";
import { findUnstorable, unstorableReason } from "../../../domain/text.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { SourcedEvent, WriteBatch, WriteResult } from "../../../ports/log-store.ts";
import type { Sql } from "./connect.ts";
import { CHUNK_CHARS, type ChunkSource, CopyTimeoutError, copyChunks, copyText } from "./copy.ts";
import { classify, sqlState } from "./errors.ts";
import { dayOf } from "./partitions.ts";
import { rollupRows } from "./rollup-rows.ts";
import { tsvectorText } from "./tsv.ts";

type Reserved = Awaited<ReturnType<Sql["reserve"]>>;

export interface WriterDeps {
  /** The dedicated write pool; a fresh one after discard(). */
  pool: () => Sql;
  /** Destroys the write pool's connections (after a COPY timeout or a broken connection). */
  discard: (pool: Sql) => Promise<void>;
  ensurePartitions: (days: Iterable<number>) => Promise<void>;
  copyTimeoutMs: number;
  logger: Logger;
}

// Native checks first: the regexes of unstorableReason run only for a value that fails them.
const storable = (value: string): boolean => !value.includes("\u0000") && value.isWellFormed();

/**
 * Refuses what PostgreSQL would refuse inside the COPY, before it starts (postgres.js reports a refused COPY
 * only through our hook in copy.ts; a lone surrogate would silently become U+FFFD), and returns each event's
 * metadata as JSON text. JSON.stringify writes NUL and lone surrogates as \u escapes, which jsonb refuses.
 */
const prepare = (batch: WriteBatch): (string | null)[] =>
  batch.events.map(({ event: e, partition, offset }) => {
    const where = `event ${JSON.stringify(e.id)} at ${partition}/${offset}`;
    if (!(storable(e.id) && storable(e.source) && storable(e.level) && storable(e.message))) {
      const reason =
        unstorableReason(e.id) ??
        unstorableReason(e.source) ??
        unstorableReason(e.level) ??
        unstorableReason(e.message);
      if (reason) throw new UnstorableError(`${where}: ${reason}`);
    }
    if (!Number.isSafeInteger(e.timestamp))
      throw new UnstorableError(`${where}: timestamp is not an integer`);
    if (e.metadata === null) return null;
    const json = JSON.stringify(e.metadata);
    if (json.includes("\\u")) {
      const bad = findUnstorable(e.metadata);
      if (bad) throw new UnstorableError(`${where}: metadata${bad.path} ${bad.reason}`);
    }
    return json;
  });

/** Indexes of the events still to store: offsets already consumed and ids repeated within the batch are left out. */
const candidates = (batch: WriteBatch, committed: Map<number, bigint>): number[] => {
  const seen = new Set<string>();
  const out: number[] = [];
  batch.events.forEach((s, i) => {
    const next = committed.get(s.partition);
    if ((next !== undefined && BigInt(s.offset) < next) || seen.has(s.event.id)) return;
    seen.add(s.event.id);
    out.push(i);
  });
  return out;
};

interface Fresh {
  event: SourcedEvent;
  ts: string;
  metadata: string | null;
}

/**
 * COPY text of the fresh rows, in batch order with seq from `base + 1`, one chunk at a time: encoding (the
 * tokenizing above all) runs while the server inserts the chunks sent before.
 */
const encoder = (rows: Fresh[], base: number, createdAt: string): ChunkSource => {
  let i = 0;
  return () => {
    if (i >= rows.length) return undefined;
    let chunk = "";
    while (i < rows.length && chunk.length < CHUNK_CHARS) {
      const { event: s, ts, metadata } = rows[i] as Fresh;
      const e = s.event;
      chunk += `${base + i + 1}\t${createdAt}\t${ts}\t${copyText(e.id)}\t${copyText(e.level)}\t${copyText(
        e.source,
      )}\t${copyText(e.message)}\t${metadata === null ? "\\N" : copyText(metadata)}\t${tsvectorText(
        e.message,
      )}\t${s.partition}\t${copyText(s.offset)}\n`;
      i++;
    }
    return chunk;
  };
};

const body = async (
  tx: Reserved,
  batch: WriteBatch,
  metadata: (string | null)[],
  copyTimeoutMs: number,
): Promise<WriteResult> => {
  const offsets = await tx<{ partition: number; next_offset: string }[]>`
    select partition, next_offset from consumer_offsets where consumer_group = ${batch.group} and topic = ${batch.topic}`;
  const wanted = candidates(batch, new Map(offsets.map((r) => [r.partition, BigInt(r.next_offset)])));
  let inserted = 0;
  if (wanted.length) {
    const times = wanted.map((i) =>
      new Date((batch.events[i] as SourcedEvent).event.timestamp).toISOString(),
    );
    // Claim the ids (sorted, so concurrent writers lock them in one order); whatever was claimed before is a
    // duplicate. A timestamp PostgreSQL refuses fails here, before any COPY.
    const claimed = await tx<{ id: string }[]>`
      insert into log_event_ids (id, ts)
      select id, ts from unnest(${wanted.map((i) => (batch.events[i] as SourcedEvent).event.id)}::text[],
        ${times}::timestamptz[]) as c (id, ts)
      order by id collate "C"
      on conflict (id) do nothing returning id`;
    const fresh = new Set(claimed.map((r) => r.id));
    const rows: Fresh[] = [];
    wanted.forEach((i, k) => {
      const event = batch.events[i] as SourcedEvent;
      if (fresh.has(event.event.id))
        rows.push({ event, ts: times[k] as string, metadata: metadata[i] ?? null });
    });
    inserted = rows.length;
    if (inserted > 0) {
      // The watermark row lock is held to commit: the next writer gets larger seqs and commits after us.
      // now() is the transaction's start, as a column default would give; its text reads back exactly.
      const [mark] = await tx<{ seq: string; now: string }[]>`
        update log_watermark set seq = seq + ${inserted} returning seq, now()::text as now`;
      const base = Number(mark?.seq ?? "0") - inserted;
      if (!mark || !Number.isSafeInteger(base + inserted))
        throw new Error(`watermark out of range: ${mark?.seq}`);
      await copyChunks(
        tx`copy log_events (seq, created_at, ts, id, level, source, message, metadata, tsv, kafka_partition, kafka_offset)
          from stdin`,
        encoder(rows, base, mark.now),
        copyTimeoutMs,
      );
      // The three rollups count the new rows only, in the same transaction as the rows themselves.
      const r = rollupRows(rows.map((row) => row.event.event));
      await tx`
        with m as (
          select * from unnest(${r.minutes}::timestamptz[], ${r.levels}::text[], ${r.sources}::text[], ${r.counts}::bigint[])
            as m (minute, level, source, n)
        ), by_minute as (
          insert into log_rollup_minute (minute, level, source, count) select minute, level, source, n from m
          on conflict (minute, level, source) do update set count = log_rollup_minute.count + excluded.count
        ), by_hour as (
          insert into log_rollup_hour (hour, level, source, count)
          select date_trunc('hour', minute, 'UTC'), level, source, sum(n) from m group by 1, 2, 3
          on conflict (hour, level, source) do update set count = log_rollup_hour.count + excluded.count
        )
        insert into log_rollup_minute_level (minute, level, count) select minute, level, sum(n) from m group by 1, 2
        on conflict (minute, level) do update set count = log_rollup_minute_level.count + excluded.count`;
    }
  }
  if (batch.nextOffsets.size) {
    const rows = [...batch.nextOffsets]
      .sort((a, b) => a[0] - b[0])
      .map(([partition, next]) => ({
        consumer_group: batch.group,
        topic: batch.topic,
        partition,
        next_offset: next,
      }));
    await tx`
      insert into consumer_offsets ${tx(rows, "consumer_group", "topic", "partition", "next_offset")}
      on conflict (consumer_group, topic, partition) do update
      set next_offset = greatest(consumer_offsets.next_offset, excluded.next_offset), updated_at = now()`;
  }
  return { inserted, duplicates: batch.events.length - inserted };
};

const RESERVE_TIMEOUT_MS = 10_000;

/**
 * postgres.js can strand a reserve() that was queued while the pool's connection was reconnecting: the
 * promise never settles (porsager/postgres#1195). Bounded here; the caller then replaces the pool.
 */
const reserveWithin = async (pool: Sql, ms: number): Promise<Reserved> => {
  const reserving = pool.reserve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no write connection within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([reserving, expired]);
  } catch (error) {
    reserving.then(
      (late) => late.release(),
      () => {},
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

export const createWriter = (deps: WriterDeps) => {
  const write = async (batch: WriteBatch): Promise<WriteResult> => {
    const metadata = prepare(batch);
    if (!batch.events.length && !batch.nextOffsets.size) return { inserted: 0, duplicates: 0 };
    if (batch.events.length)
      await deps.ensurePartitions(new Set(batch.events.map((s) => dayOf(s.event.timestamp))));
    const pool = deps.pool();
    let tx: Reserved;
    try {
      tx = await reserveWithin(pool, RESERVE_TIMEOUT_MS);
    } catch (error) {
      await deps.discard(pool).catch(() => {});
      throw classify(error);
    }
    let reusable = true;
    try {
      await tx`begin`;
      const result = await body(tx, batch, metadata, deps.copyTimeoutMs);
      await tx`commit`;
      return result;
    } catch (error) {
      if (error instanceof CopyTimeoutError || sqlState(error) === undefined) reusable = false;
      else
        await tx`rollback`.catch(() => {
          reusable = false;
        });
      if (!reusable) {
        deps.logger.warn("postgres write connection discarded", { error });
        await deps.discard(pool).catch(() => {});
      }
      throw classify(error);
    } finally {
      if (reusable) tx.release();
    }
  };
  return { write };
};
