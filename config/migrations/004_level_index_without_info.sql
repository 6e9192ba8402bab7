-- 004_level_index_without_info: the level index leaves out INFO, the level that is most of the data.
-- A page of INFO events walks the (ts, id) index newest first and finds its rows at once, so indexing them
-- only cost every COPY; the other levels, rare in most deployments (often WARN and above alone), keep their
-- index. Queries name their levels as literals (rows.ts), so every plan, generic or not, can prove it.

drop index log_events_level_ts;
create index log_events_level_ts on log_events (level, ts, id) where level <> 'INFO';
