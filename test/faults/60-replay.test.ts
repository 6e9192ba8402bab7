// Replay: --replay-from earliest rebuilds the read model from the topic into a schema of its own and exits 0.

import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { makeEvents } from "../helpers/faults-events.ts";
import { Scenario } from "../helpers/faults-harness.ts";
import { report } from "../helpers/faults-load.ts";
import { LogprocProcess } from "../helpers/faults-process.ts";
import { freePorts } from "../helpers/proc.ts";
import { uniqueName } from "../helpers/services.ts";

setDefaultTimeout(240_000);

const N = 30_000;
const REPLAY_BOUND_MS = 180_000;

let scenario: Scenario | undefined;
afterEach(async () => {
  await scenario?.cleanup();
  scenario = undefined;
});

interface Row {
  id: string;
  kafka_partition: number;
  kafka_offset: string;
}

test("a replay from earliest rebuilds exactly the live rows, with their partitions and offsets, reports progress and exits 0", async () => {
  scenario = await Scenario.create("replay", 4);
  const s = scenario;
  const events = makeEvents(N, "replay", 16);
  await s.produce(events.slice(0, N / 2));
  await s.produceRaw(1, ["not json: the replay must step over it as the live consumer did"]);
  await s.produce(events.slice(N / 2));
  const live = s.start("consumer");
  const liveCounts = await s.drained(120_000, () => live.tail());

  const schema = uniqueName("replay");
  const ports = freePorts();
  const replay = new LogprocProcess(
    "replay",
    ports,
    ["--role", "consumer", "--replay-from", "earliest", "--replay-schema", schema],
    s.env(ports, { LOG_LEVEL: "info" }),
  );
  const exit = await replay.exitWithin(REPLAY_BOUND_MS);
  const progress = replay.records().filter((r) => r.message === "replay progress");
  const complete = replay.records().some((r) => r.message === "replay complete");

  const [replayed] = await s.sql<{ rows: number; ids: number; positions: number }[]>`
    select count(*)::int as rows, count(distinct id)::int as ids,
      count(distinct (kafka_partition, kafka_offset))::int as positions
    from ${s.sql(schema)}.log_events`;
  const onlyLive = await s.sql<Row[]>`
    select id, kafka_partition, kafka_offset from public.log_events
    except select id, kafka_partition, kafka_offset from ${s.sql(schema)}.log_events`;
  const onlyReplay = await s.sql<Row[]>`
    select id, kafka_partition, kafka_offset from ${s.sql(schema)}.log_events
    except select id, kafka_partition, kafka_offset from public.log_events`;
  const ends = await s.topicEnds();
  const [outOfRange] = await s.sql<{ n: number }[]>`
    select count(*)::int as n from ${s.sql(schema)}.log_events
    where kafka_offset < 0 or kafka_offset >= case kafka_partition
      ${s.sql.unsafe([...ends].map(([p, end]) => `when ${p} then ${end}`).join(" "))} else 0 end`;
  report("60 replay", {
    sent: N + 1,
    acknowledged: N + 1,
    stored: liveCounts.rows,
    replayed: replayed?.rows,
    duplicates: (replayed?.rows ?? 0) - (replayed?.ids ?? 0),
    rejected: 1,
    progressLines: progress.length,
    lastProgress: progress.at(-1),
  });

  expect(exit?.code).toBe(0);
  expect(progress.length).toBeGreaterThan(0);
  expect(progress.at(-1)).toMatchObject({ remaining: 0, schema });
  expect(complete).toBe(true);
  expect(liveCounts).toEqual({ rows: N, ids: N });
  expect(replayed).toEqual({ rows: N, ids: N, positions: N });
  expect(onlyLive.length).toBe(0);
  expect(onlyReplay.length).toBe(0);
  expect(outOfRange?.n).toBe(0);
  expect(live.alive).toBe(true);
});
