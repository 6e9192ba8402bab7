-- 003_writes_in_flight: writers that commit concurrently, readers that still see seq without holes.
-- A writer takes its range of seq from log_watermark in a short transaction of its own and records it here
-- with the id of the transaction that will store the rows; that transaction deletes the record as it
-- commits. Readers see seq up to just below the oldest range whose transaction is still in progress.

create table log_writes_in_flight (
  xid xid8 primary key,
  lo bigint not null
);
