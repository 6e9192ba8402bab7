// The embedded store's schema: events with a unique id, an FTS5 index of their word tokens, offsets and the
// rollups (minute × level × source, minute × level, hour × level × source).
//
// The text index holds logproc's own word tokens (search-syntax.ts: runs of letters, marks and digits,
// lower-cased), joined by spaces, under FTS5's ascii tokenizer, which splits them at those spaces and nowhere
// else: an FTS5 query of words, phrases and NOT then matches exactly what the PostgreSQL store's matcher
// matches. (unicode61 on the raw message would keep "price$100" as one token, so "price" would miss it.)
//
// The rollups are WITHOUT ROWID: their primary key is the table, so a range of minutes or hours is read in key
// order together with its counts (no second lookup per row), and an upsert changes one B-tree, not two.

/** The rollups: a count per key. */
export const ROLLUPS = [
  {
    table: "log_rollup_minute",
    key: ["minute", "level", "source"],
    columns: "minute INTEGER NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL",
  },
  {
    table: "log_rollup_minute_level",
    key: ["minute", "level"],
    columns: "minute INTEGER NOT NULL, level TEXT NOT NULL",
  },
  {
    table: "log_rollup_hour",
    key: ["hour", "level", "source"],
    columns: "hour INTEGER NOT NULL, level TEXT NOT NULL, source TEXT NOT NULL",
  },
] as const;

export type Rollup = (typeof ROLLUPS)[number];

/** A rollup's table, under its own name or another (an upgrade builds the new one beside the old). */
export const rollupTable = (r: Rollup, name: string = r.table): string =>
  `CREATE TABLE IF NOT EXISTS ${name} (
  ${r.columns}, count INTEGER NOT NULL, PRIMARY KEY (${r.key.join(", ")})
) WITHOUT ROWID;`;

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
  appended_ms INTEGER,
  PRIMARY KEY (grp, topic, partition)
);
${ROLLUPS.map((r) => rollupTable(r)).join("\n")}
`;
