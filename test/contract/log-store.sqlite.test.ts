// Runs the store contract against the embedded SQLite store: a fresh database file per test.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../src/adapters/store/sqlite.ts";
import { logStoreContract, type StoreUnderTest } from "./log-store.contract.ts";
import { statsKeysContract } from "./log-store-stats-keys.contract.ts";

const make = async (): Promise<StoreUnderTest> => {
  const dir = mkdtempSync(join(tmpdir(), "logproc-sqlite-"));
  const store = createSqliteStore(join(dir, "logs.db"));
  await store.writer.start();
  await store.reader.start();
  return {
    writer: store.writer,
    reader: store.reader,
    cleanup: async () => {
      await store.writer.stop();
      await store.reader.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

logStoreContract("sqlite", make);
statsKeysContract("sqlite", make);
