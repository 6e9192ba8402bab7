// The embedded store's schema: events with a unique id, an FTS5 index of their word tokens, offsets and a
// minute rollup.
//
// The text index holds logproc's own word tokens (search-syntax.ts: runs of letters, marks and digits,
// lower-cased), joined by spaces, under FTS5's ascii tokenizer, which splits them at those spaces and nowhere
// else: an FTS5 query of words, phrases and NOT then matches exactly what the PostgreSQL store's matcher
// matches. (unicode61 on the raw message would keep "price$100" as one token, so "price" would miss it.)

export const SQLITE_SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
CREATE TABLE IF NOT EXISTS log_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  level TEXT NOT NULL,
  source TEXT NOT NULL,
  message TEXT NOT NULL,
  ts INTEGER NOT NULL,
  metadata TEXT,
  created_at INTEGER NOT NULL,
  bus_partition INTEGER NOT NULL,
  bus_offset TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_events_ts ON log_events (ts DESC, id DESC);
CREATE INDEX IF NOT EXISTS log_events_source_ts ON log_events (source, ts DESC);
CREATE INDEX IF NOT EXISTS log_events_level_ts ON log_events (level, ts DESC);
CREATE VIRTUAL TABLE IF NOT EXISTS log_terms USING fts5 (
  tokens, content = '', contentless_delete = 1, tokenize = 'ascii'
);
CREATE TABLE IF NOT EXISTS consumer_offsets (
  grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset TEXT NOT NULL,
  PRIMARY KEY (grp, topic, partition)
);
CREATE TABLE IF NOT EXISTS log_rollup_minute (
  minute INTEGER NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (minute, level, source)
);
CREATE TABLE IF NOT EXISTS log_rollup_minute_level (
  minute INTEGER NOT NULL, level TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (minute, level)
);
CREATE TABLE IF NOT EXISTS log_rollup_hour (
  hour INTEGER NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (hour, level, source)
);
`;
