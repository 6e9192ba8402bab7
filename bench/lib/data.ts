// Synthetic log events that look like real ones: long-tailed message sizes, 50 skewed sources, a level mix, JSON metadata.

import type { Level } from "../../src/domain/level.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";

/** Words whose frequencies the query scenario relies on; no filler word equals one of them. */
export const WORDS = {
  /** In ~0.03 % of messages. */
  rare: "xylophonic",
  /** In ~30 % of messages. */
  common: "request",
  /** With `common`, the three-word AND query (independent: ~0.3 × 0.25 × 0.2 = 1.5 %). */
  second: "user",
  third: "session",
} as const;
const FREQ = { rare: 0.0003, common: 0.3, second: 0.25, third: 0.2 };

export const LEVEL_MIX: readonly [Level, number][] = [
  ["INFO", 0.6],
  ["DEBUG", 0.2],
  ["WARN", 0.12],
  ["ERROR", 0.05],
  ["TRACE", 0.02],
  ["FATAL", 0.01],
];

/** mulberry32: small, fast and deterministic, so every run generates the same data. */
export const rng = (seed: number) => {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const SYLLABLES = [
  "ka",
  "lo",
  "mi",
  "ne",
  "ru",
  "ta",
  "vo",
  "zi",
  "pe",
  "so",
  "da",
  "fu",
  "gi",
  "ho",
  "be",
  "xo",
];
const special = new Set<string>(Object.values(WORDS));
const BASE_WORDS = [
  "connection",
  "timeout",
  "retry",
  "cache",
  "miss",
  "hit",
  "query",
  "database",
  "failed",
  "started",
  "completed",
  "processing",
  "order",
  "payment",
  "token",
  "expired",
  "invalid",
  "upstream",
  "latency",
  "queue",
  "worker",
  "job",
  "scheduled",
  "handler",
  "response",
  "status",
  "error",
  "warning",
  "disk",
  "memory",
  "cpu",
  "threshold",
  "exceeded",
  "login",
  "logout",
  "account",
  "created",
  "deleted",
  "updated",
];
/** ~1,000 filler words: a few common English ones, the rest pronounceable nonsense with a Zipf-like use. */
export const FILLER: readonly string[] = (() => {
  const r = rng(7);
  const out = new Set<string>(BASE_WORDS);
  while (out.size < 1000) {
    let w = "";
    const n = 2 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    if (!special.has(w)) out.add(w);
  }
  return [...out];
})();

export const SOURCES: readonly string[] = Array.from(
  { length: 50 },
  (_, i) =>
    `${["api", "auth", "billing", "search", "worker", "gateway", "db", "cache", "mailer", "cron"][i % 10]}-${String(i).padStart(2, "0")}`,
);
/** The source the query scenario filters on (a middling one: ~2.6 % of rows). */
export const PAGE_SOURCE = SOURCES[3] as string;

const REGIONS = ["eu-west-1", "us-east-1", "ap-south-1", "eu-central-1"];
const METHODS = ["GET", "POST", "PUT", "DELETE"];
const STATUS = [200, 200, 200, 201, 204, 301, 400, 401, 404, 500, 503];

export interface GenOptions {
  seed?: number;
  /** Fixed message size target in bytes (ingest's ~250 B); otherwise 40 B – 4 KB, long-tailed. */
  messageBytes?: number;
  /** Event times spread evenly over [start, end) (epoch ms); default the last hour. */
  start?: number;
  end?: number;
  count: number;
}

const hex = (r: () => number, n: number): string => {
  let s = "";
  for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(r() * 16)];
  return s;
};

/** A UUIDv7-shaped id: time-ordered, unique per (seed, index). */
const idOf = (ts: number, r: () => number): string => {
  const t = ts.toString(16).padStart(12, "0");
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${hex(r, 3)}-${"89ab"[Math.floor(r() * 4)]}${hex(r, 3)}-${hex(r, 12)}`;
};

const pickLevel = (x: number): Level => {
  let acc = 0;
  for (const [level, p] of LEVEL_MIX) {
    acc += p;
    if (x < acc) return level;
  }
  return "INFO";
};

/** Long tail: log-normal (median ~150 B) clamped to 40 B – 4 KB, plus 0.5 % stack-trace sized messages. */
const targetSize = (r: () => number, fixed?: number): number => {
  if (fixed) return Math.max(40, Math.round(fixed * (0.8 + 0.4 * r())));
  if (r() < 0.005) return 1024 + Math.floor(r() * 3072);
  const normal = Math.sqrt(-2 * Math.log(r() || 1e-9)) * Math.cos(2 * Math.PI * r());
  return Math.min(4096, Math.max(40, Math.round(150 * Math.exp(0.75 * normal))));
};

export function* generate(o: GenOptions): Generator<LogEvent> {
  const r = rng(o.seed ?? 1);
  const end = o.end ?? Date.now();
  const start = o.start ?? end - 3_600_000;
  const step = (end - start) / Math.max(1, o.count);
  for (let i = 0; i < o.count; i++) {
    const ts = Math.floor(start + i * step);
    // Zipf-ish source skew: the first sources log most.
    const source = SOURCES[Math.min(49, Math.floor(50 * r() ** 1.6))] as string;
    const level = pickLevel(r());
    const size = targetSize(r, o.messageBytes);
    const words: string[] = [];
    let len = 0;
    while (len < size) {
      // Zipf-like pick: low indices (the English words) are frequent.
      const w = FILLER[Math.floor(FILLER.length * r() ** 3)] as string;
      words.push(w);
      len += w.length + 1;
    }
    const put = (w: string) => words.splice(Math.floor(r() * (words.length + 1)), 0, w);
    if (r() < FREQ.common) put(WORDS.common);
    if (r() < FREQ.second) put(WORDS.second);
    if (r() < FREQ.third) put(WORDS.third);
    if (r() < FREQ.rare) put(WORDS.rare);
    const metadata = {
      requestId: hex(r, 16),
      userId: Math.floor(r() * 100_000),
      durationMs: Math.round(1000 * r() ** 4),
      region: REGIONS[Math.floor(r() * REGIONS.length)],
      http: { method: METHODS[Math.floor(r() * 4)], status: STATUS[Math.floor(r() * STATUS.length)] },
    };
    yield { id: idOf(ts, r), level, source, message: words.join(" "), timestamp: ts, metadata };
  }
}

export const generateArray = (o: GenOptions): LogEvent[] => [...generate(o)];

/** The HTTP input form of an event (what a client posts). */
export const inputOf = (e: LogEvent) => ({
  id: e.id,
  level: e.level,
  message: e.message,
  source: e.source,
  timestamp: e.timestamp,
  metadata: e.metadata,
});
