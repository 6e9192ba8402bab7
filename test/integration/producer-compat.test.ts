// What the replaced design's clients read from the producer when the bus refuses: status "unavailable".

import { afterEach, expect, test } from "bun:test";
import { downPublisher } from "../helpers/bus-doubles.ts";
import { type Cleanup, producerHarness, replyOf, validEvent } from "../helpers/producer-harness.ts";

const cleanups: Cleanup[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

test("a 503 from a bus that is down says status unavailable, as the replaced design did, beside the error code", async () => {
  const { ingest, post } = await producerHarness(cleanups, {}, { publisher: downPublisher() });
  for (const res of [await ingest(validEvent), await post("/batch", JSON.stringify([validEvent]))]) {
    expect(res.status).toBe(503);
    expect(await replyOf(res)).toMatchObject({ status: "unavailable", error: "unavailable" });
  }
});
