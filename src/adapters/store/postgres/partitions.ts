// Daily partitions of log_events: created ahead of need and on demand, dropped whole by retention.

import type { Logger } from "../../../observability/logger.ts";
import type { Sql } from "./connect.ts";

export const DAY_MS = 86_400_000;

export interface PartitionPolicy {
  /** Days before today that get their own partition when data arrives for them; older goes to DEFAULT. */
  pastDays: number;
  /** Days after today likewise (clock skew); later goes to DEFAULT until its day comes near. */
  futureDays: number;
  now: () => number;
}

export const DEFAULT_PARTITION_POLICY: PartitionPolicy = { pastDays: 366, futureDays: 7, now: Date.now };

const PREFIX = "log_events_p";

export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/** log_events_p20240131 for the UTC day number. */
export const partitionName = (day: number): string =>
  `${PREFIX}${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll("-", "")}`;

const dayOfName = (name: string): number | undefined => {
  const m = /^log_events_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : undefined;
};

const iso = (day: number): string => new Date(day * DAY_MS).toISOString();

export const createPartitions = (sql: Sql, policy: PartitionPolicy, logger: Logger) => {
  const known = new Set<number>();
  let loaded = false;

  const list = async (): Promise<number[]> => {
    const rows = await sql<{ name: string }[]>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'log_events'::regclass`;
    return rows.map((r) => dayOfName(r.name)).filter((d): d is number => d !== undefined);
  };

  const refresh = async (): Promise<void> => {
    known.clear();
    for (const d of await list()) known.add(d);
    loaded = true;
  };

  /** Creates the daily partitions missing for these days (plus today-1 .. today+2), within the policy's horizon. */
  const ensure = async (days: Iterable<number>): Promise<void> => {
    if (!loaded) await refresh();
    const today = dayOf(policy.now());
    const wanted = new Set<number>([today - 1, today, today + 1, today + 2]);
    for (const d of days) if (d >= today - policy.pastDays && d <= today + policy.futureDays) wanted.add(d);
    const missing = [...wanted].filter((d) => !known.has(d)).sort((a, b) => a - b);
    if (!missing.length) return;
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtextextended('logproc:partitions:' || current_schema(), 0))`;
      // Waiting behind a long query for the parent's lock would stall every writer: give up, retry later.
      await tx`set local lock_timeout = '10s'`;
      for (const day of missing) {
        const name = partitionName(day);
        const [row] = await tx<{ exists: boolean }[]>`select to_regclass(${name}) is not null as exists`;
        if (row?.exists) continue;
        const lo = iso(day);
        const hi = iso(day + 1);
        // Rows of this day may already sit in DEFAULT (they arrived while the day was beyond the horizon):
        // move them, then attach (ATTACH needs a lighter lock on the parent than CREATE … PARTITION OF).
        await tx.unsafe(`create table "${name}" (like log_events including defaults including constraints)`);
        await tx.unsafe(
          `with moved as (delete from log_events_default where ts >= '${lo}' and ts < '${hi}' returning *)
           insert into "${name}" select * from moved`,
        );
        await tx.unsafe(
          `alter table log_events attach partition "${name}" for values from ('${lo}') to ('${hi}')`,
        );
        logger.info("postgres partition created", { partition: name });
      }
    });
    for (const d of missing) known.add(d);
  };

  /**
   * Retention: drops every daily partition that ends before the start of (today - days), and deletes what
   * belongs to the same time from DEFAULT, the id dedupe table and the rollup. Returns the dropped names.
   */
  const dropOlderThan = async (days: number): Promise<string[]> => {
    if (!Number.isInteger(days) || days <= 0) return [];
    const cutoffDay = dayOf(policy.now()) - days;
    const cutoff = new Date(cutoffDay * DAY_MS);
    const dropped: string[] = [];
    for (const day of (await list()).filter((d) => d < cutoffDay).sort((a, b) => a - b)) {
      const name = partitionName(day);
      await sql.begin(async (tx) => {
        await tx`set local lock_timeout = '10s'`;
        await tx.unsafe(`drop table if exists "${name}"`);
      });
      known.delete(day);
      dropped.push(name);
      logger.info("postgres partition dropped", { partition: name });
    }
    await sql`delete from log_events_default where ts < ${cutoff}`;
    await sql`delete from log_event_ids where ts < ${cutoff}`;
    await sql`delete from log_rollup_minute where minute < ${cutoff}`;
    await sql`delete from log_rollup_minute_level where minute < ${cutoff}`;
    await sql`delete from log_rollup_hour where hour < ${cutoff}`;
    return dropped;
  };

  return { ensure, dropOlderThan, list, refresh };
};
