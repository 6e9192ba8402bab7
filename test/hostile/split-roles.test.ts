// The hostile corpus and fuzzers against split roles (bun src/main.ts --role …) on real Kafka, PostgreSQL and Redis.

import { setDefaultTimeout } from "bun:test";
import { startSplit } from "./pipeline.ts";
import { hostileSuite } from "./suite.ts";

setDefaultTimeout(240_000);

hostileSuite("split roles on Kafka + PostgreSQL (COPY, tsquery) + Redis", () => startSplit(), {
  fuzzRuns: { events: 2000, batches: 300, queries: 3000 },
});
