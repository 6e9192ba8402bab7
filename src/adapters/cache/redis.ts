// The shared query cache on Redis (ioredis): fails fast while Redis is away, so the gateway bypasses it.

import { Redis, type RedisOptions } from "ioredis";
import type { RedisConfig } from "../../config/load.ts";
import type { Logger } from "../../observability/logger.ts";
import type { Health } from "../../ports/log-bus.ts";
import type { QueryCache } from "../../ports/query-cache.ts";

export interface RedisCacheOptions {
  /** Prepended to every key: one namespace per deployment (and per test). */
  keyPrefix?: string;
  /** A command without a reply by then fails; the gateway then answers from the store. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  logger?: Logger;
}

/** Keys past this length are replaced by their SHA-256, so a long filter list costs Redis little memory. */
const MAX_RAW_KEY = 200;
/** Larger answers are not shared: moving them would outlast the command timeout and trip the breaker. */
const MAX_VALUE_CHARS = 4 * 1024 * 1024;
/** Connection errors repeat on every reconnect attempt: log one per interval. */
const ERROR_LOG_INTERVAL_MS = 30_000;

export const redisOptions = (config: RedisConfig, opts: RedisCacheOptions = {}): RedisOptions => ({
  ...(config.url ? {} : { host: config.host, port: config.port }),
  ...(config.password ? { password: config.password } : {}),
  ...(config.tls ? { tls: {} } : {}),
  lazyConnect: true,
  // While disconnected a command fails at once instead of queueing: a cache must never hold a request up.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: opts.commandTimeoutMs ?? 250,
  connectTimeout: opts.connectTimeoutMs ?? 1000,
  // Reconnect forever, backing off to one attempt every 2 s.
  retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  connectionName: "logproc-gateway",
});

export class RedisCache implements QueryCache {
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly connectTimeoutMs: number;
  private lastErrorLog = 0;

  constructor(
    config: RedisConfig,
    private readonly opts: RedisCacheOptions = {},
  ) {
    const options = redisOptions(config, opts);
    this.client = config.url ? new Redis(config.url, options) : new Redis(options);
    this.prefix = opts.keyPrefix ?? "logproc:q:";
    this.connectTimeoutMs = options.connectTimeout ?? 1000;
    this.client.on("error", (error: Error) => {
      const now = Date.now();
      if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
      this.lastErrorLog = now;
      this.opts.logger?.warn("redis cache unreachable; queries bypass it", { error });
    });
  }

  /**
   * Waits for the first connection at most the connect timeout, and never fails: a Redis that is down must
   * not keep the gateway from starting (queries bypass it until ioredis reconnects in the background).
   */
  async start(): Promise<void> {
    if (this.client.status !== "wait") return;
    const connected = this.client.connect().then(
      () => true,
      () => false, // reported by the "error" listener
    );
    const ok = await Promise.race([connected, Bun.sleep(this.connectTimeoutMs).then(() => false)]);
    if (!ok) this.opts.logger?.warn("redis cache not reachable at start; queries bypass it until it is");
  }

  async stop(): Promise<void> {
    if (this.client.status === "end") return;
    try {
      await Promise.race([
        this.client.quit(),
        Bun.sleep(1000).then(() => Promise.reject(new Error("quit timed out"))),
      ]);
    } catch {
      this.client.disconnect();
    }
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.client.get(this.keyOf(key));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (!(ttlMs >= 1) || value.length > MAX_VALUE_CHARS) return;
    await this.client.set(this.keyOf(key), value, "PX", Math.ceil(ttlMs));
  }

  /** Redis is never in this process: every read goes to get(). */
  peek(_key: string): Blob | undefined {
    return undefined;
  }

  async health(): Promise<Health> {
    try {
      await this.client.ping();
      return { ok: true, detail: `redis ${this.client.status}` };
    } catch (error) {
      return {
        ok: false,
        detail: `redis ${this.client.status}: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }

  private keyOf(key: string): string {
    if (key.length <= MAX_RAW_KEY) return this.prefix + key;
    return `${this.prefix}h:${new Bun.CryptoHasher("sha256").update(key).digest("base64url")}`;
  }
}
