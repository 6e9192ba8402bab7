// The writer while PostgreSQL keeps ending its sessions: batches of 8,000 events (two in five of them sent
// again, so claims conflict) go through the consumer's writer while another connection ends the store's
// sessions every 20–170 ms, as a shutdown or an operator would. The process must survive it with every
// failure handed to the caller: an uncaught exception, or a rejection that is not a lost connection, ends
// this run with exit code 1 (as it would end a consumer).
// Usage: bun bench/sessions-ended.ts [seconds]   (default 30)

import postgres from "postgres";
import { createPostgresStore } from "../src/adapters/store/postgres/store.ts";
import type { LogEvent } from "../src/domain/log-event.ts";
import { createLogger } from "../src/observability/logger.ts";
import { logRejections } from "../src/observability/rejections.ts";
import type { WriteBatch } from "../src/ports/log-store.ts";
import { createDatabase, dbUrl, dropDatabase, runId, storeConfig } from "./lib/services.ts";

const seconds = Number(process.argv[2] ?? 30);
const lost: string[] = [];
const logger = createLogger("warn", {}, (line) => {
  if (line.includes("connection lost outside any request")) lost.push(line);
  else process.stderr.write(`${line}\n`);
});
logRejections(logger);
process.on("uncaughtException", (error) => {
  process.stderr.write(`uncaught: ${error.stack ?? error}\n`);
  process.exit(1);
});

const db = `sessions_ended_${runId()}`;
await createDatabase(db);
const url = dbUrl(db);
const store = createPostgresStore(storeConfig(url), { applicationName: db });
await store.writer.start();
const admin = postgres(dbUrl("postgres"), { max: 1, onnotice: () => {} });

const now = Date.now();
const batch = (from: number, n: number): WriteBatch => ({
  group: "g",
  topic: "t",
  events: Array.from(
    { length: n },
    (_, i): LogEvent => ({
      id: `e${from + i}`,
      level: "INFO",
      message: `message ${from + i} ${"word ".repeat(20)}`,
      source: "s",
      timestamp: now,
      metadata: { i },
    }),
  ).map((event, i) => ({ event, partition: 0, offset: String(from + i) })),
  nextOffsets: new Map(),
  transient: true,
});

let stop = false;
let ended = 0;
const ender = (async () => {
  while (!stop) {
    await Bun.sleep(20 + Math.random() * 150);
    const [r] = await admin<{ n: number }[]>`
      select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
      where application_name like ${`${db}%`} and backend_type = 'client backend'`;
    ended += r?.n ?? 0;
  }
})();

let written = 0;
let failed = 0;
let next = 0;
const until = Date.now() + seconds * 1000;
while (Date.now() < until) {
  const again = next > 20_000 && Math.random() < 0.4;
  const from = again ? Math.floor(Math.random() * (next - 10_000)) : next;
  if (!again) next += 8_000;
  try {
    await store.writer.write(batch(from, 8_000));
    written++;
  } catch {
    failed++;
  }
}
stop = true;
await ender;
console.log(
  JSON.stringify({
    seconds,
    batchesStored: written,
    batchesFailed: failed,
    sessionsEnded: ended,
    lostOutsideRequests: lost.length,
  }),
);
await store.writer.stop().catch(() => {});
await admin.end();
await dropDatabase(db).catch(() => {});
process.exit(0);
