// The HTTP contract each role offers to deployments: port variable, default port, health and metrics paths.

import { join } from "node:path";

export const REPO = join(import.meta.dir, "..", "..");

export type RoleName = "producer" | "consumer" | "gateway";

export interface RoleEndpoints {
  role: RoleName;
  portVariable: "PRODUCER_PORT" | "CONSUMER_PORT" | "GATEWAY_PORT";
  defaultPort: number;
  health: string;
  /** The role's own Prometheus path first (what prometheus.yml scrapes), then the shared /metrics. */
  metrics: [string, string];
  /** The Prometheus job that scrapes it. */
  job: string;
}

export const ROLES: readonly RoleEndpoints[] = [
  {
    role: "producer",
    portVariable: "PRODUCER_PORT",
    defaultPort: 8081,
    health: "/producer/api/logs/health",
    metrics: ["/producer/actuator/prometheus", "/metrics"],
    job: "logproc-producer",
  },
  {
    role: "consumer",
    portVariable: "CONSUMER_PORT",
    defaultPort: 8082,
    health: "/actuator/health",
    metrics: ["/actuator/prometheus", "/metrics"],
    job: "logproc-consumer",
  },
  {
    role: "gateway",
    portVariable: "GATEWAY_PORT",
    defaultPort: 8080,
    health: "/gateway/api/query/health",
    metrics: ["/gateway/actuator/prometheus", "/metrics"],
    job: "logproc-gateway",
  },
];

export const roleOf = (name: string): RoleEndpoints => {
  const found = ROLES.find((r) => r.role === name);
  if (!found) throw new Error(`no role ${name}`);
  return found;
};

/** Parses a YAML stream document by document (Bun.YAML returns an array for a stream, ambiguous with a list). */
export const parseYamlDocuments = (text: string): unknown[] =>
  text
    .split(/^---[ \t]*$/m)
    .filter((doc) => doc.split("\n").some((line) => line.trim() !== "" && !line.trim().startsWith("#")))
    .map((doc) => Bun.YAML.parse(doc));

export const readText = (path: string): Promise<string> => Bun.file(join(REPO, path)).text();

/** The whole manual: the README and every page under docs/, as one text (facts may live on any page). */
export const readDocs = async (): Promise<string> => {
  const pages = [...new Bun.Glob("docs/**/*.md").scanSync({ cwd: REPO })].sort();
  return (await Promise.all(["README.md", ...pages].map(readText))).join("\n\n");
};
