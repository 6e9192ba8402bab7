-- 002_rollup_hours: coarser rollups, so stats and estimates over days read thousands of rows, not millions.
-- The minute x level x source rollup holds up to 1440 x 6 x sources rows a day: fine for the edges of a
-- window, too many for a week. Hours carry the bulk; minute x level (no source) carries the histogram.

create table log_rollup_hour (
  hour timestamptz not null,
  level text not null,
  source text collate "C" not null,
  count bigint not null,
  primary key (hour, level, source)
) with (fillfactor = 70);

create table log_rollup_minute_level (
  minute timestamptz not null,
  level text not null,
  count bigint not null,
  primary key (minute, level)
) with (fillfactor = 70);

insert into log_rollup_hour (hour, level, source, count)
select date_trunc('hour', minute, 'UTC'), level, source, sum(count) from log_rollup_minute group by 1, 2, 3;

insert into log_rollup_minute_level (minute, level, count)
select minute, level, sum(count) from log_rollup_minute group by 1, 2;
