// The hostile corpus and fuzzers against the embedded mode (in-process bus, SQLite with FTS5, in-memory cache).

import { setDefaultTimeout } from "bun:test";
import { startEmbedded } from "./pipeline.ts";
import { hostileSuite } from "./suite.ts";

setDefaultTimeout(240_000);

hostileSuite("embedded mode on SQLite (FTS5 MATCH)", () => startEmbedded(), {
  fuzzRuns: { events: 2000, batches: 300, queries: 3000 },
});
