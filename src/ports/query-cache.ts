// The query cache: a cache-aside store of serialized responses with a time to live.

import type { Health, Lifecycle } from "./log-bus.ts";

export interface QueryCache extends Lifecycle {
  /** undefined on a miss. Rejects when the cache is unreachable (the caller bypasses it). */
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * The value as UTF-8 bytes when this process holds a live copy, without waiting: the hot path of a
   * repeated query. undefined whenever it cannot answer at once (then get() decides); it never answers
   * what get() would not.
   */
  peek(key: string): Blob | undefined;
  health(): Promise<Health>;
}
