// Elasticsearch _bulk: each event as an ECS-shaped document behind a create action, as Filebeat sends them.

import { type ProtocolBench, poster } from "./types.ts";

export const elasticsearchBulk: ProtocolBench = {
  name: "elasticsearch_bulk",
  goal: 0.8,
  async prepare(batches, target) {
    const bodies = batches.map((b) => {
      let text = "";
      for (const e of b)
        text += `{"create":{"_index":"logs-bench"}}\n${JSON.stringify({
          "@timestamp": new Date(e.timestamp).toISOString(),
          message: e.message,
          log: { level: e.level.toLowerCase() },
          service: { name: e.source },
          labels: e.metadata ?? {},
        })}\n`;
      return text;
    });
    return {
      send: poster(
        `${target.producerUrl}/_bulk`,
        bodies,
        { "content-type": "application/x-ndjson" },
        (status, body) => status === 200 && body.startsWith('{"took"') && body.includes('"errors":false'),
      ),
    };
  },
};
