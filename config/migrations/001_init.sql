-- 001_init: log events in daily range partitions, id dedupe, consumer offsets, minute rollup, arrival watermark.
-- Runs inside one transaction with search_path set to the store's schema; every name here is unqualified.

-- One row per stored event. Daily partitions are created by the store (partitions.ts) ahead of need;
-- rows for days far from now land in the DEFAULT partition and are moved when their day gets one.
-- tsv holds the message's tokens exactly as src/domain/search-syntax.ts tokenizes them (computed by the
-- writer, not by a PostgreSQL text-search parser, whose tokens differ on paths, addresses and numbers).
create table log_events (
  ts timestamptz not null,
  id text collate "C" not null,
  seq bigint not null,
  level text not null check (level in ('TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL')),
  source text collate "C" not null,
  message text not null,
  metadata jsonb,
  tsv tsvector not null,
  created_at timestamptz not null,
  kafka_partition int not null,
  kafka_offset bigint not null
) partition by range (ts);

create table log_events_default partition of log_events default;

-- Newest-first pages, keyset continuation, the search walk and findById's probe.
create index log_events_ts_id on log_events (ts, id);
-- Pages filtered by source or by level, newest first.
create index log_events_source_ts on log_events (source, ts, id);
create index log_events_level_ts on log_events (level, ts, id);
-- Live tail: rows after a given arrival sequence.
create index log_events_seq on log_events (seq);
-- Full-text probes of the search.
create index log_events_tsv on log_events using gin (tsv);

-- Dedupe on the event id alone (a resent event may carry another timestamp); ts finds the stored row.
create table log_event_ids (
  id text collate "C" primary key,
  ts timestamptz not null
);
-- Retention deletes by time; ids arrive roughly in time order, so a BRIN index is enough and costs little.
create index log_event_ids_ts on log_event_ids using brin (ts);

-- Next offset to read per (group, topic, partition), advanced in the same transaction as the rows.
create table consumer_offsets (
  consumer_group text not null,
  topic text not null,
  partition int not null,
  next_offset bigint not null,
  updated_at timestamptz not null default now(),
  primary key (consumer_group, topic, partition)
);

-- Counts of stored events per minute, level and source: stats and total estimates read only this.
create table log_rollup_minute (
  minute timestamptz not null,
  level text not null,
  source text collate "C" not null,
  count bigint not null,
  primary key (minute, level, source)
) with (fillfactor = 70);

-- The highest committed arrival sequence. Its row lock orders writers, so seq grows in commit order.
create table log_watermark (
  one boolean primary key default true check (one),
  seq bigint not null
);
insert into log_watermark (one, seq) values (true, 0);
