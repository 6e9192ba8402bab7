// The write path: rows encoded ahead of the transaction; in it, claim the ids, take a range of seq (announced
// as in flight), COPY the fresh rows straight into log_events, roll up, advance offsets.

import { UnstorableError } from "../../../domain/errors.ts";
import type { Logger } from "../../../observability/logger.ts";
import type { SourcedEvent, Unstorable, WriteBatch, WriteResult } from "../../../ports/log-store.ts";
import type { Sql } from "./connect.ts";
import { CopyTimeoutError } from "./copy.ts";
import { classify, sqlState } from "./errors.ts";
import { dayOf } from "./partitions.ts";
import { type Encoded, encode } from "./write-rows.ts";
import { type Announce, type Claimed, claimIds, type Reserved, storeRows } from "./write-steps.ts";

export interface WriterDeps {
  /** The dedicated write pool; a fresh one after discard(). */
  pool: () => Sql;
  /** Destroys the write pool's connections (after a COPY timeout or a broken connection). */
  discard: (pool: Sql) => Promise<void>;
  ensurePartitions: (days: Iterable<number>) => Promise<void>;
  copyTimeoutMs: number;
  /** Takes a batch's range of seq, on a connection of its own (see Announce). */
  announce: Announce;
  logger: Logger;
}

const RESERVE_TIMEOUT_MS = 10_000;

/**
 * postgres.js can strand a reserve() that was queued while the pool's connection was reconnecting: the
 * promise never settles (porsager/postgres#1195). Bounded here; the caller then replaces the pool.
 */
const reserveWithin = async (pool: Sql, ms: number): Promise<Reserved> => {
  const reserving = pool.reserve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no write connection within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([reserving, expired]);
  } catch (error) {
    reserving.then(
      (late) => late.release(),
      () => {},
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
};

/** Why a staged transaction is rolled back when nothing went wrong: its connection stays in use. */
const DROPPED = new Error("staged write dropped");

/** A transaction on a reserved write connection, and whether the server has closed that connection. */
interface Open {
  pool: Sql;
  tx: Reserved;
  closed: () => boolean;
}

/** Thrown for a statement on a write connection the server has closed: retryable, the connection is discarded. */
export class WriteConnectionClosedError extends Error {
  constructor() {
    super("the write connection was closed by the server");
    this.name = "WriteConnectionClosedError";
  }
}

/** The connection object postgres.js hands to a query's `onexecute`; its pool calls `onclose` as it closes. */
interface Watched {
  onclose?: (() => void) | null;
}

/**
 * Begins the transaction and watches its connection. postgres.js runs a query on a reserved connection the
 * server has closed by writing to a socket that is gone, from a timer: an uncaught TypeError that ends the
 * process. Releasing such a connection puts it back among the pool's open ones, where the next query meets
 * the same end. The server closes connections mid-transaction when it shuts down (or an operator terminates
 * them), at any moment, e.g. while the batch takes its seq on another connection. So the connection's
 * close is watched (`onexecute` hands it over; the pool calls its `onclose`), and once it is closed the
 * transaction's statements throw before they run and the connection is never released: its pool goes.
 */
const beginWatched = async (tx: Reserved): Promise<{ tx: Reserved; closed: () => boolean }> => {
  let closed = false;
  const watch = (c: Watched): boolean => {
    c.onclose = () => {
      closed = true;
    };
    return true;
  };
  await tx.unsafe("begin", [], { onexecute: watch } as never);
  const guarded = new Proxy(tx, {
    apply(target, self, args) {
      if (closed) throw new WriteConnectionClosedError();
      return Reflect.apply(target, self, args);
    },
  });
  return { tx: guarded, closed: () => closed };
};

/** A later batch whose ids are being claimed on a second connection while the current batch is written. */
interface Staged {
  events: readonly SourcedEvent[];
  encoded: Encoded[];
  open: Promise<Open>;
  claimed: Promise<Claimed>;
}

/**
 * Writes batches, one transaction each. While a batch is written, stage() may begin the next batch's
 * transaction on a second connection and claim its ids (the server does that on its other core while this
 * one COPYs); that transaction then waits for its write(), which takes the watermark lock only after the
 * current transaction ended. The staged claim starts only after the current one finished, so the current
 * transaction never waits for a row lock of the staged one; any write of other events drops the staged
 * transaction first (a retry, a split batch), and so does a failed write.
 */
export const createWriter = (deps: WriterDeps) => {
  // Rows encoded ahead by prepare(), until the write() that stores them (or until their events are dropped).
  const prepared = new WeakMap<SourcedEvent, Encoded>();
  let staged: Staged | undefined;
  /** Settles once the claim of the write in flight is done; undefined while no write is in flight. */
  let claiming: Promise<void> | undefined;

  const prepare = (events: readonly SourcedEvent[]): Unstorable[] => {
    const refused: Unstorable[] = [];
    events.forEach((s, index) => {
      try {
        prepared.set(s, encode(s));
      } catch (error) {
        if (!(error instanceof UnstorableError)) throw error;
        refused.push({ index, error: error.message });
      }
    });
    return refused;
  };

  const begin = async (events: readonly SourcedEvent[]): Promise<Open> => {
    if (events.length) await deps.ensurePartitions(new Set(events.map((s) => dayOf(s.event.timestamp))));
    const pool = deps.pool();
    let tx: Reserved;
    try {
      tx = await reserveWithin(pool, RESERVE_TIMEOUT_MS);
    } catch (error) {
      await deps.discard(pool).catch(() => {});
      throw classify(error);
    }
    try {
      return { pool, ...(await beginWatched(tx)) };
    } catch (error) {
      // Nothing tells whether the connection still stands: it goes with its pool.
      await end({ pool, tx, closed: () => true }, error);
      throw classify(error);
    }
  };

  /**
   * Commits (no error) or rolls back; a connection in an unknown state, or one the server closed, is
   * destroyed with its pool.
   */
  const end = async ({ pool, tx, closed }: Open, error?: unknown): Promise<void> => {
    let reusable = true;
    if (error === undefined) await tx`commit`;
    else if (
      closed() ||
      (error !== DROPPED && (error instanceof CopyTimeoutError || sqlState(error) === undefined))
    )
      reusable = false;
    else
      await tx`rollback`.catch(() => {
        reusable = false;
      });
    if (reusable && !closed()) tx.release();
    else {
      deps.logger.warn("postgres write connection discarded", { error });
      await deps.discard(pool).catch(() => {});
    }
  };

  const dropStaged = async (): Promise<void> => {
    const s = staged;
    staged = undefined;
    if (!s) return;
    const open = await s.open.catch(() => undefined);
    if (!open) return;
    const failed = await s.claimed.then(
      () => undefined,
      (error: unknown) => error,
    );
    await end(open, failed ?? DROPPED).catch(() => {});
  };

  const stage = (batch: WriteBatch): void => {
    if (staged || !claiming || !batch.events.length) return;
    let encoded: Encoded[];
    try {
      encoded = batch.events.map((s) => prepared.get(s) ?? encode(s));
    } catch {
      return; // write() reports it
    }
    const open = claiming.then(() => begin(batch.events));
    const claimed = open.then((o) => claimIds(o.tx, batch, encoded, deps.copyTimeoutMs));
    open.catch(() => {});
    claimed.catch(() => {});
    staged = { events: batch.events, encoded, open, claimed };
  };

  const write = async (batch: WriteBatch): Promise<WriteResult> => {
    const mine = staged?.events === batch.events ? staged : undefined;
    const encoded = mine?.encoded ?? batch.events.map((s) => prepared.get(s) ?? encode(s));
    if (!batch.events.length && !batch.nextOffsets.size) return { inserted: 0, duplicates: 0 };
    if (staged && !mine) await dropStaged();
    staged = undefined;
    let claimDone = () => {};
    claiming = new Promise<void>((resolve) => {
      claimDone = resolve;
    });
    let open: Open | undefined;
    try {
      open = await (mine ? mine.open : begin(batch.events));
      const claimed = await (mine ? mine.claimed : claimIds(open.tx, batch, encoded, deps.copyTimeoutMs));
      claimDone();
      const result = await storeRows(open.tx, batch, claimed, deps.copyTimeoutMs, deps.announce);
      await end(open);
      return result;
    } catch (error) {
      if (open) await end(open, error).catch(() => {});
      // This batch comes again: a transaction staged behind it must not keep its ids claimed meanwhile.
      claimDone();
      await dropStaged();
      throw classify(error);
    } finally {
      claimDone();
      claiming = undefined;
    }
  };

  /** Rolls back a staged transaction (before the pools end). */
  const close = (): Promise<void> => dropStaged();

  return { write, prepare, stage, close };
};
