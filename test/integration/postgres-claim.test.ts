// The claim of a batch's ids: one COPY when every id is fresh; one by one when some were claimed before or are
// being claimed by a transaction still in flight. Either way the transaction goes on as it was.

import { afterEach, beforeEach, describe, expect, it, setDefaultTimeout } from "bun:test";
import { createPostgresStore, type PostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { encode } from "../../src/adapters/store/postgres/write-rows.ts";
import { claimIds, type Reserved } from "../../src/adapters/store/postgres/write-steps.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import type { WriteBatch } from "../../src/ports/log-store.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";

setDefaultTimeout(120_000);

const cfg = testPostgresConfig();
const now = Date.now();

const batchOf = (ids: string[]): WriteBatch => ({
  group: "g",
  topic: "logs",
  events: ids.map((id, i) => {
    const event: LogEvent = {
      id,
      level: "INFO",
      message: `m ${i}`,
      source: "s",
      timestamp: now + i,
      metadata: null,
    };
    return { event, partition: 0, offset: String(i) };
  }),
  nextOffsets: new Map(),
  transient: true,
});

/** Claims the batch's ids in a transaction of its own; the fresh ids, and lock_timeout as the transaction ends. */
const claimIn = async (tx: Reserved, batch: WriteBatch) => {
  await tx`begin`;
  const claimed = await claimIds(tx, batch, batch.events.map(encode), 30_000);
  const [setting] = await tx<{ lock_timeout: string }[]>`show lock_timeout`;
  await tx`commit`;
  return { ids: claimed.rows.map((r) => r.id).sort(), lockTimeout: setting?.lock_timeout };
};

describe("postgres claim of ids", () => {
  let schema: string;
  let store: PostgresStore;
  let tx: Reserved;
  beforeEach(async () => {
    schema = uniqueName("t");
    store = createPostgresStore(cfg, { schema, applicationName: schema });
    await store.writer.start();
    tx = await store.sql.reserve();
  });
  afterEach(async () => {
    tx.release();
    await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
    await store.writer.stop();
  });

  const claimRows = async () =>
    (await store.sql<{ id: string }[]>`select id from log_event_ids order by id`).map((r) => r.id);
  const ids = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);

  it("claims fresh ids and leaves the transaction's lock_timeout as it was", async () => {
    const fresh = ids("a", 300);
    const result = await claimIn(tx, batchOf(fresh));
    expect(result).toEqual({ ids: fresh, lockTimeout: "0" });
    expect(await claimRows()).toEqual(fresh);
  });

  it("leaves out ids claimed before and claims the rest, with nothing left of the undone COPY", async () => {
    const before = ids("b", 100);
    await claimIn(tx, batchOf(before));
    const again = [...before.slice(50), ...ids("c", 100)];
    const result = await claimIn(tx, batchOf(again));
    expect(result).toEqual({ ids: ids("c", 100), lockTimeout: "0" });
    expect(await claimRows()).toEqual([...before, ...ids("c", 100)]);
  });

  /**
   * Claims the ids while another transaction holds five of them, for longer than the COPY's lock_timeout, and
   * ends that transaction as told: the claim one by one waits on, as the COPY would not.
   */
  const claimWhileHeld = async (held: string[], end: "commit" | "rollback") => {
    const other = await store.sql.reserve();
    try {
      const some = batchOf(held.slice(5, 10));
      await other`begin`;
      await claimIds(other, some, some.events.map(encode), 30_000);
      const claiming = claimIn(tx, batchOf(held));
      await Bun.sleep(300);
      await (end === "commit" ? other`commit` : other`rollback`);
      return await claiming;
    } finally {
      other.release();
    }
  };

  it("waits for a transaction that holds some of the ids, and claims them once it rolls back", async () => {
    const held = ids("d", 20);
    expect(await claimWhileHeld(held, "rollback")).toEqual({ ids: held, lockTimeout: "0" });
    expect(await claimRows()).toEqual(held);
  });

  it("waits for a transaction that holds some of the ids, and leaves them out once it commits", async () => {
    const held = ids("e", 20);
    expect(await claimWhileHeld(held, "commit")).toEqual({
      ids: [...held.slice(0, 5), ...held.slice(10)],
      lockTimeout: "0",
    });
    expect(await claimRows()).toEqual(held);
  });
});
