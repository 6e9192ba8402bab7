-- 005_offset_append_times: each stored position also says when the record before it was appended to the bus.
-- Offsets alone cannot tell a topic created again (counting from 0 anew) from the one the position was taken
-- on; its records are newer than that time, so they are not mistaken for ones already stored (offsets.ts).
-- Positions kept before this migration have none until their next batch is stored.

alter table consumer_offsets add column appended_ms bigint;
