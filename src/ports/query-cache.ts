// The query cache: a cache-aside store of serialized responses with a time to live.

import type { Health, Lifecycle } from "./log-bus.ts";

export interface QueryCache extends Lifecycle {
  /** undefined on a miss. Rejects when the cache is unreachable (the caller bypasses it). */
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  health(): Promise<Health>;
}
