// Rows of the embedded store's log_events as read back, and the stored event they stand for.

import type { Level } from "../../domain/level.ts";
import type { StoredLogEvent } from "../../domain/log-event.ts";

export interface EventRow {
  seq: number;
  id: string;
  level: string;
  source: string;
  message: string;
  ts: number;
  metadata: string | null;
  created_at: number;
}

export const COLUMNS = "seq, id, level, source, message, ts, metadata, created_at";

export const eventOf = (r: EventRow): StoredLogEvent => ({
  id: r.id,
  level: r.level as Level,
  message: r.message,
  source: r.source,
  timestamp: r.ts,
  metadata: r.metadata === null ? null : (JSON.parse(r.metadata) as Record<string, unknown>),
  createdAt: r.created_at,
  seq: r.seq,
});
