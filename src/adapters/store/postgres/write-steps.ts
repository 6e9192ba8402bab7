// The two steps of a batch's transaction: claim its ids (leaving out what is stored), then store the fresh
// rows with their seq, rollups and offsets.

import { handledBefore, type Position, positionOf } from "../../../domain/offsets.ts";
import type { SourcedEvent, WriteBatch, WriteResult } from "../../../ports/log-store.ts";
import type { Sql } from "./connect.ts";
import { copyChunks } from "./copy.ts";
import { sqlState } from "./errors.ts";
import { rollupRows } from "./rollup-rows.ts";
import { claimEncoder, type Encoded, encoder } from "./write-rows.ts";

export type Reserved = Awaited<ReturnType<Sql["reserve"]>>;

interface PositionRow {
  partition: number;
  next_offset: string;
  appended_ms: string | null;
}

/** The group's positions on the topic (consumer_offsets), on a pool or inside a transaction. */
export const readPositions = (sql: Sql | Reserved, group: string, topic: string): Promise<PositionRow[]> =>
  sql<PositionRow[]>`
    select partition, next_offset, appended_ms from consumer_offsets
    where consumer_group = ${group} and topic = ${topic}`;

export const positionsOf = (rows: readonly PositionRow[]): Map<number, Position> =>
  new Map(
    rows.map((r) => [
      r.partition,
      positionOf(r.next_offset, r.appended_ms === null ? null : Number(r.appended_ms)),
    ]),
  );

/** Indexes of the events still to store: records already handled and ids repeated within the batch are left out. */
const candidates = (batch: WriteBatch, committed: Map<number, Position>): number[] => {
  const seen = new Set<string>();
  const out: number[] = [];
  batch.events.forEach((s, i) => {
    if (handledBefore(committed.get(s.partition), s.offset, s.appendedMs) || seen.has(s.event.id)) return;
    seen.add(s.event.id);
    out.push(i);
  });
  return out;
};

/** The events a batch still has to store once its ids are claimed, with their rows. */
export interface Claimed {
  rows: Encoded[];
  events: SourcedEvent[];
}

/** SQLSTATEs of an id claimed before (unique_violation), and of one whose claim is still in flight (lock_not_available). */
const CLAIMED_BEFORE = new Set(["23505", "55P03"]);

/**
 * Claims every id with one COPY, the usual case: a third of the server's work of an insert that checks each
 * id for a conflict first. False when an id was claimed before (a redelivery), or by a transaction still in
 * flight: the COPY does not wait for that one (lock_timeout), it is undone up to its savepoint, and nothing is
 * claimed. The claim one by one then waits as it always did.
 */
const claimAll = async (tx: Reserved, claims: Encoded[], copyTimeoutMs: number): Promise<boolean> => {
  await tx`savepoint claim; set local lock_timeout = '10ms'`.simple();
  try {
    await copyChunks(
      tx`copy log_event_ids (id, ts) from stdin (format binary)`,
      claimEncoder(claims),
      copyTimeoutMs,
    );
  } catch (error) {
    const state = sqlState(error);
    if (state === undefined || !CLAIMED_BEFORE.has(state)) throw error;
    // Rolling back to the savepoint also undoes the lock_timeout.
    await tx`rollback to savepoint claim; release savepoint claim`.simple();
    return false;
  }
  await tx`set local lock_timeout to default; release savepoint claim`.simple();
  return true;
};

/**
 * Claims what is not claimed yet, one conflict check per id; the claimed ids come back only when some were
 * not: the answer is one row, not one per event. Times go as epoch milliseconds: whole seconds through
 * to_timestamp, exact up to year 9999 (their microseconds fit a double), and the rest as an interval.
 * Multiplying an interval by all the milliseconds would pass through a double inexactly past the year 4250.
 */
export const claimEach = async (tx: Reserved, claims: Encoded[]): Promise<Set<string> | undefined> => {
  const [claim] = await tx<{ n: number; ids: string[] | null }[]>`
    with c as (
      insert into log_event_ids (id, ts)
      select id, to_timestamp(ms / 1000) + ms % 1000 * interval '1 millisecond'
      from unnest(${claims.map((c) => c.id)}::text[], ${claims.map((c) => c.ts)}::int8[]) as c (id, ms)
      on conflict (id) do nothing returning id
    )
    select count(*)::int as n,
      case when count(*) < ${claims.length} then coalesce(array_agg(id), '{}') end as ids from c`;
  return claim?.ids ? new Set(claim.ids) : undefined;
};

/**
 * Step one of the transaction: leave out what the offsets say is stored, then claim the ids, in one order for
 * every writer (sorted here, where it costs the server nothing) so concurrent writers never deadlock; an id
 * claimed before is a duplicate. A COPY claims them all at once; when one was claimed before, they are
 * claimed one by one, leaving out the duplicates.
 */
export const claimIds = async (
  tx: Reserved,
  batch: WriteBatch,
  encoded: Encoded[],
  copyTimeoutMs: number,
): Promise<Claimed> => {
  const positions = batch.transient
    ? new Map()
    : positionsOf(await readPositions(tx, batch.group, batch.topic));
  const wanted = candidates(batch, positions);
  if (!wanted.length) return { rows: [], events: [] };
  const claims = wanted
    .map((i) => encoded[i] as Encoded)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const fresh = (await claimAll(tx, claims, copyTimeoutMs)) ? undefined : await claimEach(tx, claims);
  const out: Claimed = { rows: [], events: [] };
  for (const i of wanted) {
    const row = encoded[i] as Encoded;
    if (fresh && !fresh.has(row.id)) continue;
    out.rows.push(row);
    out.events.push(batch.events[i] as SourcedEvent);
  }
  return out;
};

/**
 * Takes a range of n seqs for the transaction `xid` and records it as in flight, in a short transaction of
 * its own (on another connection): the watermark row is locked only for that, so writers overlap. Returns
 * the range's first seq.
 */
export type Announce = (xid: string, n: number) => Promise<number>;

/** Step two: seq from an announced range, the COPY, the rollups and the offsets. */
export const storeRows = async (
  tx: Reserved,
  batch: WriteBatch,
  { rows, events }: Claimed,
  copyTimeoutMs: number,
  announce: Announce,
): Promise<WriteResult> => {
  const inserted = rows.length;
  if (inserted > 0) {
    // now() is the transaction's start, as a column default would give, in microseconds since 2000-01-01.
    const [me] = await tx<{ xid: string; now: string }[]>`
      select pg_current_xact_id()::text as xid,
        ((extract(epoch from now()) - 946684800) * 1000000)::int8::text as now`;
    if (!me) throw new Error("no transaction id");
    const lo = await announce(me.xid, inserted);
    const base = lo - 1;
    if (!Number.isSafeInteger(base + inserted)) throw new Error(`watermark out of range: ${lo}`);
    await copyChunks(
      tx`copy log_events (seq, created_at, ts, id, level, source, message, metadata_json, tsv, kafka_partition, kafka_offset)
        from stdin (format binary)`,
      encoder(rows, base, BigInt(me.now)),
      copyTimeoutMs,
    );
    // The three rollups count the new rows only, in the same transaction as the rows themselves. The range's
    // record goes in the same statement: readers pass the range once the rows are committed with it.
    const r = rollupRows(events.map((s) => s.event));
    await tx`
      with landed as (
        delete from log_writes_in_flight where xid = ${me.xid}::xid8
      ), m as (
        select * from unnest(${r.minutes}::timestamptz[], ${r.levels}::text[], ${r.sources}::text[], ${r.counts}::bigint[])
          as m (minute, level, source, n)
      ), by_minute as (
        insert into log_rollup_minute (minute, level, source, count) select minute, level, source, n from m
        on conflict (minute, level, source) do update set count = log_rollup_minute.count + excluded.count
      ), by_hour as (
        insert into log_rollup_hour (hour, level, source, count)
        select date_trunc('hour', minute, 'UTC'), level, source, sum(n) from m group by 1, 2, 3 order by 1, 2, 3
        on conflict (hour, level, source) do update set count = log_rollup_hour.count + excluded.count
      )
      insert into log_rollup_minute_level (minute, level, count) select minute, level, sum(n) from m group by 1, 2 order by 1, 2
      on conflict (minute, level) do update set count = log_rollup_minute_level.count + excluded.count`;
  }
  if (batch.nextOffsets.size && !batch.transient) {
    const offsets = [...batch.nextOffsets]
      .sort((a, b) => a[0] - b[0])
      .map(([partition, next]) => ({
        consumer_group: batch.group,
        topic: batch.topic,
        partition,
        next_offset: next,
        appended_ms: batch.appendedMs?.get(partition) ?? null,
      }));
    // offsets.ts's advances(), for writers that commit concurrently: the later record's position is kept.
    await tx`
      insert into consumer_offsets
        ${tx(offsets, "consumer_group", "topic", "partition", "next_offset", "appended_ms")}
      on conflict (consumer_group, topic, partition) do update
      set next_offset = excluded.next_offset, appended_ms = excluded.appended_ms, updated_at = now()
      where case
        when excluded.appended_ms is null or consumer_offsets.appended_ms is null
          then excluded.next_offset > consumer_offsets.next_offset
        else (excluded.appended_ms, excluded.next_offset) > (consumer_offsets.appended_ms, consumer_offsets.next_offset)
      end`;
  }
  return { inserted, duplicates: batch.events.length - inserted };
};
