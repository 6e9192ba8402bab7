// The write path: COPY a batch into a staging table, then in one transaction dedupe, assign seq, roll up, advance offsets.

import { UnstorableError } from "../../../domain/errors.ts";
import { unstorableReason } from "../../../domain/text.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { WriteBatch, WriteResult } from "../../../ports/log-store.ts";
import type { Sql } from "./connect.ts";
import { CopyTimeoutError, copyLine, copyLines } from "./copy.ts";
import { classify, sqlState } from "./errors.ts";
import { dayOf } from "./partitions.ts";
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

// Checked before COPY: PostgreSQL would refuse a NUL only after the stream ends, where postgres.js loses
// the error (issue #1173); a lone surrogate would silently become U+FFFD.
const refuseUnstorable = (batch: WriteBatch): void => {
  for (const { event: e, partition, offset } of batch.events) {
    const reason =
      unstorableReason(e.id) ??
      unstorableReason(e.source) ??
      unstorableReason(e.level) ??
      unstorableReason(e.message);
    if (reason)
      throw new UnstorableError(`event ${JSON.stringify(e.id)} at ${partition}/${offset}: ${reason}`);
    if (!Number.isSafeInteger(e.timestamp))
      throw new UnstorableError(
        `event ${JSON.stringify(e.id)} at ${partition}/${offset}: timestamp is not an integer`,
      );
  }
};

/** One COPY line per event, encoded before the transaction opens (tokenizing is the costly part). */
const encode = (batch: WriteBatch): string[] =>
  batch.events.map(({ event: e, partition, offset }, ord) => {
    const metadata = e.metadata === null ? null : JSON.stringify(e.metadata);
    const ts = new Date(e.timestamp).toISOString();
    return copyLine([
      ord,
      e.id,
      ts,
      e.level,
      e.source,
      e.message,
      metadata,
      tsvectorText(e.message),
      partition,
      offset,
    ]);
  });

/** The lines still to store: offsets already consumed and ids repeated within the batch are left out. */
const stageLines = (batch: WriteBatch, encoded: string[], committed: Map<number, bigint>): string[] => {
  const seen = new Set<string>();
  const lines: string[] = [];
  batch.events.forEach(({ event: e, partition, offset }, ord) => {
    const next = committed.get(partition);
    if ((next !== undefined && BigInt(offset) < next) || seen.has(e.id)) return;
    seen.add(e.id);
    lines.push(encoded[ord] as string);
  });
  return lines;
};

const body = async (
  tx: Reserved,
  batch: WriteBatch,
  encoded: string[],
  copyTimeoutMs: number,
): Promise<WriteResult> => {
  const offsets = await tx<{ partition: number; next_offset: string }[]>`
    select partition, next_offset from consumer_offsets where consumer_group = ${batch.group} and topic = ${batch.topic}`;
  const lines = stageLines(batch, encoded, new Map(offsets.map((r) => [r.partition, BigInt(r.next_offset)])));
  let inserted = 0;
  if (lines.length) {
    await tx`create temp table if not exists logproc_stage (
      ord int not null, id text collate "C" not null, ts text not null, level text not null,
      source text collate "C" not null, message text not null, metadata text, tsv text not null,
      kafka_partition int not null, kafka_offset bigint not null
    ) on commit delete rows`;
    await copyLines(
      tx`copy logproc_stage (ord, id, ts, level, source, message, metadata, tsv, kafka_partition, kafka_offset)
        from stdin`.writable(),
      lines,
      copyTimeoutMs,
    );
    // Claim the ids (sorted, so concurrent writers lock them in one order); whatever was claimed before is a duplicate.
    const refused = await tx`
      with claimed as (
        insert into log_event_ids (id, ts) select id, ts::timestamptz from logproc_stage order by id
        on conflict (id) do nothing returning id
      )
      delete from logproc_stage s where not exists (select 1 from claimed c where c.id = s.id)`;
    inserted = lines.length - refused.count;
  }
  if (inserted > 0) {
    // The watermark row lock is held to commit: the next writer gets larger seqs and commits after us.
    const [mark] = await tx<
      { seq: string }[]
    >`update log_watermark set seq = seq + ${inserted} returning seq`;
    const base = String(BigInt(mark?.seq ?? "0") - BigInt(inserted));
    await tx`
      insert into log_events (ts, id, seq, level, source, message, metadata, tsv, created_at, kafka_partition, kafka_offset)
      select ts::timestamptz, id, ${base}::bigint + row_number() over (order by ord), level, source, message,
        metadata::jsonb, tsv::tsvector, now(), kafka_partition, kafka_offset
      from logproc_stage`;
    // The three rollups count the new rows only, in the same transaction as the rows themselves.
    await tx`
      with m as (
        select date_trunc('minute', ts::timestamptz, 'UTC') as minute, level, source, count(*) as n
        from logproc_stage group by 1, 2, 3
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

export const createWriter = (deps: WriterDeps) => {
  const write = async (batch: WriteBatch): Promise<WriteResult> => {
    refuseUnstorable(batch);
    if (!batch.events.length && !batch.nextOffsets.size) return { inserted: 0, duplicates: 0 };
    if (batch.events.length)
      await deps.ensurePartitions(new Set(batch.events.map((s) => dayOf(s.event.timestamp))));
    const encoded = encode(batch);
    const pool = deps.pool();
    const tx = await pool.reserve();
    let reusable = true;
    try {
      await tx`begin`;
      const result = await body(tx, batch, encoded, deps.copyTimeoutMs);
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
