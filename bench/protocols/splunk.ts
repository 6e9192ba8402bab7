// Splunk HEC: each event as an HEC event object, concatenated without separators, as splunk-logging batches.

import { type ProtocolBench, poster } from "./types.ts";

export const splunkHec: ProtocolBench = {
  name: "splunk_hec",
  async prepare(batches, target) {
    const bodies = batches.map((b) =>
      b
        .map((e) =>
          JSON.stringify({
            time: (e.timestamp / 1000).toFixed(3),
            source: e.source,
            sourcetype: "_json",
            event: { message: e.message, severity: e.level.toLowerCase(), ...(e.metadata ?? {}) },
          }),
        )
        .join(""),
    );
    return {
      send: poster(`${target.producerUrl}/services/collector/event`, bodies, {}, (status, body) => {
        return status === 200 && body === '{"text":"Success","code":0}';
      }),
    };
  },
};
