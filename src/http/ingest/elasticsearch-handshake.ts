// The requests Elasticsearch shippers make before _bulk (version, license, health, templates, ILM, pipelines),
// answered so that they proceed: logproc keeps no templates or policies, so every setup call is acknowledged.

import type { Context, Hono } from "hono";
import { esShape } from "./elasticsearch-errors.ts";
import { chain, type ProtocolDeps } from "./protocol.ts";

type JsonObject = Record<string, unknown>;

const CLUSTER = "logproc";
const UUID = "bG9ncHJvYy1sb2dwcm9j";
const ACK = { acknowledged: true };

export const versionDocument = (number: string) => ({
  name: CLUSTER,
  cluster_name: CLUSTER,
  cluster_uuid: UUID,
  version: {
    number,
    build_flavor: "default",
    build_type: "tar",
    build_hash: "logproc",
    build_date: "2024-01-01T00:00:00.000Z",
    build_snapshot: false,
    lucene_version: "9.12.0",
    minimum_wire_compatibility_version: "7.17.0",
    minimum_index_compatibility_version: "7.0.0",
  },
  tagline: "You Know, for Search",
});

const LICENSE = {
  status: "active",
  uid: "00000000-0000-4000-8000-6c6f67707263",
  type: "basic",
  issue_date: "2024-01-01T00:00:00.000Z",
  issue_date_in_millis: 1704067200000,
  max_nodes: 1000,
  max_resource_units: null,
  issued_to: CLUSTER,
  issuer: "elasticsearch",
  start_date_in_millis: -1,
};

const health = (status: "green" | "red") => ({
  cluster_name: CLUSTER,
  status,
  timed_out: false,
  number_of_nodes: 1,
  number_of_data_nodes: 1,
  active_primary_shards: 0,
  active_shards: 0,
  relocating_shards: 0,
  initializing_shards: 0,
  unassigned_shards: 0,
  delayed_unassigned_shards: 0,
  number_of_pending_tasks: 0,
  number_of_in_flight_fetch: 0,
  task_max_waiting_in_queue_millis: 0,
  active_shards_percent_as_number: 100,
});

/** The one node, published at the address the client used (a sniffing client then keeps talking to us). */
const nodes = (c: Context, version: string) => {
  const host = c.req.header("host") ?? "127.0.0.1:9200";
  return {
    _nodes: { total: 1, successful: 1, failed: 0 },
    cluster_name: CLUSTER,
    nodes: {
      logproc: {
        name: CLUSTER,
        host: host.replace(/:\d+$/, ""),
        version,
        roles: ["data", "ingest", "master"],
        http: { bound_address: [host], publish_address: host, max_content_length_in_bytes: 0 },
      },
    },
  };
};

export const mountElasticsearchHandshake = (app: Hono, deps: ProtocolDeps): void => {
  const v = deps.elasticsearchVersion;
  const on = chain([esShape, ...deps.guards]);
  const get = (path: string, answer: (c: Context) => JsonObject | Promise<JsonObject>) =>
    app.get(path, on, async (c) => c.json(await answer(c)));
  /** A named setup object (template, policy, pipeline): it exists, and writing or deleting it is acknowledged. */
  const setup = (path: string, exists: (name: string) => JsonObject) => {
    // Hono answers HEAD with the GET route (without its body): the existence checks shippers make.
    app.get(path, on, (c) => c.json(exists(c.req.param("name") ?? "")));
    app.on(["PUT", "POST", "DELETE"], path, on, (c) => c.json(ACK));
  };

  app.get("/", on, (c) => c.json(versionDocument(v)));
  get("/_license", () => ({ license: LICENSE }));
  get("/_xpack", () => ({
    build: { hash: "logproc", date: "2024-01-01T00:00:00.000Z" },
    license: { uid: LICENSE.uid, type: "basic", mode: "basic", status: "active" },
    features: {
      ilm: { available: true, enabled: true },
      security: { available: true, enabled: false },
      monitoring: { available: true, enabled: false },
    },
    tagline: "You know, for X",
  }));
  get("/_cluster/health", async () => health((await deps.health()).ok ? "green" : "red"));
  get("/_cluster/health/:index", async () => health((await deps.health()).ok ? "green" : "red"));
  get("/_nodes", (c) => nodes(c, v));
  get("/_nodes/*", (c) => nodes(c, v));
  get("/_index_template", () => ({ index_templates: [] }));
  setup("/_index_template/:name", (name) => ({
    index_templates: [{ name, index_template: { index_patterns: [`${name}*`], template: {} } }],
  }));
  setup("/_component_template/:name", (name) => ({
    component_templates: [{ name, component_template: { template: {} } }],
  }));
  setup("/_template/:name", (name) => ({
    [name]: { index_patterns: [`${name}*`], settings: {}, mappings: {} },
  }));
  get("/_ilm/policy", () => ({}));
  setup("/_ilm/policy/:name", (name) => ({ [name]: { version: 1, policy: { phases: {} } } }));
  get("/_ingest/pipeline", () => ({}));
  setup("/_ingest/pipeline/:name", (name) => ({
    [name]: { description: "accepted by logproc", processors: [] },
  }));
  setup("/_data_stream/:name", (name) => ({
    data_streams: [{ name, timestamp_field: { name: "@timestamp" }, status: "GREEN" }],
  }));
  setup("/_alias/:name", (name) => ({ [name]: { aliases: { [name]: {} } } }));
  app.post("/_refresh", on, (c) => c.json({ _shards: { total: 1, successful: 1, failed: 0 } }));
  app.post("/:index/_refresh", on, (c) => c.json({ _shards: { total: 1, successful: 1, failed: 0 } }));
  // An index (or rollover alias) exists and creating one is acknowledged: events land in logproc's one table.
  // Only HEAD (Hono routes it through GET): a GET of any other one-segment path stays a plain 404.
  app.get(
    "/:index",
    (c, next) => (c.req.method === "HEAD" ? next() : c.notFound()),
    on,
    (c) => c.body(null, 200),
  );
  app.put("/:index", on, (c) => c.json({ ...ACK, shards_acknowledged: true, index: c.req.param("index") }));
};
