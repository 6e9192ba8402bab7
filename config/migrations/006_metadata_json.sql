-- 006_metadata_json: metadata is stored as json (its text, checked) in a new column, not as jsonb.
-- No query looks inside metadata; it is stored and read back whole. jsonb's input builds and sorts a binary
-- tree of every object, which cost the server ~1.5 µs per row of the write path for no use; json checks the
-- text and keeps it, in the order the client sent. Adding a column rewrites nothing, so rows stored before
-- keep theirs in the jsonb column and are read from it (rows.ts reads whichever is set).

alter table log_events add column metadata_json json;
