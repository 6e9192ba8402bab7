// OTLP (protobuf, JSON) and Loki push (snappy protobuf, JSON): the bodies of bench/lib/shipper-bodies.ts as
// entries of the protocols benchmark, each answer checked to have accepted every event.

import { type ProtocolEntry, SHIPPER_PROTOCOLS } from "../lib/shipper-bodies.ts";
import type { ProtocolBench } from "./types.ts";

const bench = (entry: ProtocolEntry): ProtocolBench => ({
  name: entry.name.toLowerCase().replaceAll(" ", "_"),
  goal: 0.8,
  async prepare(batches, target) {
    const bodies = batches.map((b) => entry.encode(b));
    return {
      send: async (i) => {
        const batch = batches[i % batches.length] ?? [];
        const res = await fetch(`${target.producerUrl}${entry.path}`, {
          method: "POST",
          headers: entry.headers,
          body: bodies[i % bodies.length] ?? "",
        });
        await entry.check(res, batch.length);
      },
    };
  },
});

export const SHIPPER_BENCHES: readonly ProtocolBench[] = SHIPPER_PROTOCOLS.map(bench);
