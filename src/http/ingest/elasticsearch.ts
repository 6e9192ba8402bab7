// Elasticsearch _bulk on the producer port: NDJSON create/index pairs → the native ingest path, per-item answers.

import type { Context, Hono } from "hono";
import { type BulkOp, bulkDocToEvent, parseBulk } from "../../domain/ingest/elasticsearch.ts";
import { joinWithin } from "../../domain/text.ts";
import { readBodyText } from "../body.ts";
import { esShape } from "./elasticsearch-errors.ts";
import { mountElasticsearchHandshake } from "./elasticsearch-handshake.ts";
import type { ProtocolDeps } from "./protocol.ts";

/** What follows the id in every created item of the answer. */
const CREATED_TAIL =
  `,"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},` +
  `"_seq_no":0,"_primary_term":1,"status":201}}`;

/**
 * Created items of the answer as JSON text. Built as text because a 10,000-item answer is most of a bulk
 * request's own cost when built as objects; every client-given string goes through JSON.stringify. The part
 * before the id is made once per action and index in a row: a request mostly names one.
 */
const createdItems = () => {
  let action = "";
  let index = "";
  let head = "";
  return (a: string, i: string, id: string): string => {
    if (a !== action || i !== index || head === "") {
      action = a;
      index = i;
      head = `{"${a}":{"_index":${JSON.stringify(i)},"_id":`;
    }
    return head + JSON.stringify(id) + CREATED_TAIL;
  };
};

const failed = (op: BulkOp, type: string, reason: string): string =>
  JSON.stringify({
    [op.action]: { _index: op.index, _id: op.id ?? null, status: 400, error: { type, reason } },
  });

export const mountElasticsearch = (app: Hono, deps: ProtocolDeps): void => {
  const { ingest } = deps;

  const bulk = async (c: Context): Promise<Response> => {
    const started = performance.now();
    const text = await readBodyText(c.req.raw, deps.maxBodyBytes);
    const ops = parseBulk(text, c.req.param("index"));
    // Only create/index documents become events; their positions map the ingest outcome back to items.
    const docs: unknown[] = [];
    const at: number[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op?.kind !== "doc") continue;
      at.push(i);
      docs.push(bulkDocToEvent(op.doc, op.index, op.id, ingest.settings.limits));
    }
    const outcome = await ingest.batch(docs, { allErrors: true });
    const reasons = new Map<number, string>();
    for (const e of outcome.errors) {
      const prior = reasons.get(e.index);
      reasons.set(e.index, `${prior ? `${prior}; ` : ""}${e.field}: ${e.message}`);
    }
    const created = createdItems();
    const items: string[] = new Array(ops.length);
    let ok = 0;
    let d = 0;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as BulkOp;
      if (op.kind === "refused") {
        items[i] = failed(op, "illegal_argument_exception", op.reason);
        continue;
      }
      const index = d++;
      const reason = reasons.get(index);
      if (reason !== undefined) {
        items[i] = failed(op, "document_parsing_exception", reason);
        continue;
      }
      items[i] = created(op.action, op.index, outcome.ids[ok++] ?? "");
    }
    const errors = items.length !== ok;
    // "errors" before "items", compact: Fluent Bit looks for the literal "errors":false,"items":[ in long answers.
    const head = `{"took":${Math.round(performance.now() - started)},"errors":${errors},"items":[`;
    return c.body(joinWithin(head, items, ",", "]}"), 200, { "content-type": "application/json" });
  };

  const route = [deps.timed("es_bulk"), esShape, ...deps.guards] as const;
  app.post("/_bulk", ...route, bulk);
  app.put("/_bulk", ...route, bulk);
  app.post("/:index/_bulk", ...route, bulk);
  app.put("/:index/_bulk", ...route, bulk);
  mountElasticsearchHandshake(app, deps);
};
