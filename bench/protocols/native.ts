// The reference: logproc's own batch API (JSON array of events) on the same producer, same batches.

import { inputOf } from "../lib/data.ts";
import { type ProtocolBench, poster } from "./types.ts";

export const native: ProtocolBench = {
  name: "native_batch",
  async prepare(batches, target) {
    const bodies = batches.map((b) => JSON.stringify(b.map(inputOf)));
    const counts = batches.map((b) => b.length);
    return {
      send: poster(
        `${target.producerUrl}/producer/api/logs/batch`,
        bodies,
        { "content-type": "application/json" },
        (status, body) => status === 200 && body.includes(`"successCount":${counts[0]}`),
      ),
    };
  },
};
