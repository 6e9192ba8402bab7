// The embedded store's schema: events with a unique id, an FTS5 index of messages, offsets and a minute rollup.

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
CREATE VIRTUAL TABLE IF NOT EXISTS log_fts USING fts5 (
  message, content = 'log_events', content_rowid = 'seq', tokenize = "unicode61 remove_diacritics 0"
);
CREATE TABLE IF NOT EXISTS consumer_offsets (
  grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset TEXT NOT NULL,
  PRIMARY KEY (grp, topic, partition)
);
CREATE TABLE IF NOT EXISTS log_rollup_minute (
  minute INTEGER NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (minute, level, source)
);
`;
