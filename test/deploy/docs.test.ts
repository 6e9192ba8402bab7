// The manual (README and docs/) covers every metric and alert, the runbook topics, and names paths and versions that exist.

import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createMetrics, Registry } from "../../src/observability/metrics.ts";
import { readAlertRules } from "./queries.ts";
import { REPO, readDocs, readText } from "./roles.ts";

let doc: string;

beforeAll(async () => {
  doc = await readDocs();
});

describe("manual: operating", () => {
  test("describes every metric logproc exports", () => {
    const names = createMetrics(new Registry(), { defaults: false })
      .registry.getMetricsAsArray()
      .map((m) => m.name);
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  test("describes every alert", async () => {
    const alerts = (await readAlertRules()).groups.flatMap((g) => g.rules.map((r) => r.alert ?? ""));
    expect(alerts.filter((a) => !doc.includes(`\`${a}\``))).toEqual([]);
  });

  test("covers scaling, retention, backup, replay, migrations and troubleshooting", () => {
    const topics = [
      "partition",
      "RETENTION_DAYS",
      "pg_dump",
      "logproc --role consumer --replay-from earliest",
      "advisory lock",
      "/opt/kafka/bin/kafka-consumer-groups.sh",
      "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --bootstrap-server 127.0.0.1:9092 --describe --group log-consumer-group",
      "kcat",
      "log-events.dlq",
      "x-error",
      "x-reason",
      "x-original-partition",
      "x-original-offset",
      "log_events",
      "consumer_offsets",
      "log_rollup_minute",
      "LOG_LEVEL",
      "requestId",
    ];
    expect(topics.filter((t) => !doc.includes(t))).toEqual([]);
  });

  test("names files of this repository that exist", () => {
    const paths = [...doc.matchAll(/`((?:config|deploy|scripts|src|docs)\/[^`\s]*)`/g)]
      .map((m) => m[1] ?? "")
      .filter((p) => !p.includes("NNN"));
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.filter((p) => !existsSync(join(REPO, p)))).toEqual([]);
  });

  test("uses the Kafka version that scripts/services.sh and docker-compose.yml run", async () => {
    const version = /^KAFKA_VERSION=(\S+)$/m.exec(await readText("scripts/services.sh"))?.[1];
    expect(version).toBeDefined();
    expect(doc).toContain(`.cache/logproc/kafka-${version}/libs`);
    expect(await readText("docker-compose.yml")).toContain(`image: apache/kafka:${version}`);
  });
});

describe("README: a front page", () => {
  test("stays under 10 KB and links every page of the manual", async () => {
    const readme = await readText("README.md");
    expect(readme.length).toBeLessThan(10 * 1024);
    const pages = [...new Bun.Glob("docs/**/*.md").scanSync({ cwd: REPO })];
    expect(pages.length).toBeGreaterThan(5);
    expect(pages.filter((p) => !readme.includes(`(${p})`))).toEqual([]);
  });
});
