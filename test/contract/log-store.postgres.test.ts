// Runs the store contract against PostgreSQL: every test in a schema of its own, dropped afterwards.

import { createPostgresStore } from "../../src/adapters/store/postgres/store.ts";
import { testPostgresConfig, uniqueName } from "../helpers/services.ts";
import { logStoreContract, type StoreUnderTest } from "./log-store.contract.ts";
import { statsKeysContract } from "./log-store-stats-keys.contract.ts";

const make = async (): Promise<StoreUnderTest> => {
  const schema = uniqueName("t");
  const store = createPostgresStore(testPostgresConfig(), { schema });
  await store.writer.start();
  await store.reader.start();
  return {
    writer: store.writer,
    reader: store.reader,
    cleanup: async () => {
      await store.sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await store.writer.stop();
      await store.reader.stop();
    },
  };
};

logStoreContract("postgres", make);
statsKeysContract("postgres", make);
