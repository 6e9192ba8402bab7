// The default process metrics each role exports, less those that cost a heap walk per scrape under Bun.

import { describe, expect, test } from "bun:test";
import { createMetrics, Registry, SKIPPED_DEFAULT_METRICS } from "../../src/observability/metrics.ts";

describe("default metrics", () => {
  test("exports the process and event-loop metrics but not the heap spaces", async () => {
    const { registry } = createMetrics(new Registry());
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toContain("process_cpu_seconds_total");
    expect(names).toContain("nodejs_eventloop_lag_max_seconds");
    expect(names).toContain("nodejs_heap_size_used_bytes");
    for (const name of SKIPPED_DEFAULT_METRICS) expect(names).not.toContain(name);
  });
});
