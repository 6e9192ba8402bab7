// Kafka's own tools (classes of its jars, as scripts/services.sh caches them), for the tests and benchmarks to
// ask the broker what kafkajs cannot: how many bytes a topic takes, what a consumer that is not kafkajs reads.

import { join } from "node:path";

/** Where scripts/services.sh caches Kafka's jars. */
export const KAFKA_LIBS = join(
  process.env.LOGPROC_CACHE ?? join(process.env.HOME ?? "/root", ".cache/logproc"),
  "kafka-4.1.1/libs",
);

/** Runs one of Kafka's tool classes against `brokers`; its standard output, or an error with its stderr. */
export const kafkaTool = async (brokers: string[], className: string, args: string[]): Promise<string> => {
  const proc = Bun.spawn(
    ["java", "-cp", `${KAFKA_LIBS}/*`, className, "--bootstrap-server", brokers.join(","), ...args],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${className} exited ${code}: ${err.slice(-2000)}`);
  return out;
};

/** Bytes each topic's partitions take in the broker's log directories (Kafka's LogDirsCommand). */
export const topicBytesOnBroker = async (
  brokers: string[],
  topics: string[],
): Promise<Map<string, number>> => {
  const out = await kafkaTool(brokers, "org.apache.kafka.tools.LogDirsCommand", [
    "--describe",
    "--topic-list",
    topics.join(","),
  ]);
  const json = out.split("\n").find((l) => l.startsWith("{"));
  if (!json) throw new Error(`LogDirsCommand printed no JSON:\n${out.slice(-1500)}`);
  const described = JSON.parse(json) as {
    brokers: { logDirs: { partitions: { partition: string; size: number }[] }[] }[];
  };
  const bytes = new Map(topics.map((t) => [t, 0]));
  for (const b of described.brokers)
    for (const d of b.logDirs)
      for (const p of d.partitions) {
        const topic = p.partition.slice(0, p.partition.lastIndexOf("-"));
        bytes.set(topic, (bytes.get(topic) ?? 0) + p.size);
      }
  return bytes;
};
