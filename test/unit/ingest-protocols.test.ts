// The shipper protocols' pure parts: bulk lines, HEC splitting, syslog parsing and framing, key presentation.

import { describe, expect, test } from "bun:test";
import { MalformedItem } from "../../src/domain/errors.ts";
import { bulkDocToEvent, parseBulk } from "../../src/domain/ingest/elasticsearch.ts";
import { storableCut } from "../../src/domain/ingest/fields.ts";
import { hecToEvent, splitConcatenated } from "../../src/domain/ingest/splunk.ts";
import { parseStructuredData, parseSyslog } from "../../src/domain/ingest/syslog.ts";
import { DEFAULT_EVENT_LIMITS } from "../../src/domain/log-event.ts";
import { presentedKeys } from "../../src/http/middleware.ts";
import { SyslogFramer } from "../../src/syslog/framing.ts";

const limits = DEFAULT_EVENT_LIMITS;

describe("Elasticsearch bulk lines", () => {
  test("pairs create/index with their documents; delete has none; update and delete are refused per item", () => {
    const ops = parseBulk(
      [
        '{"create":{"_index":"a","_id":"1"}}',
        '{"message":"x"}',
        '{"delete":{"_id":"2"}}',
        '{"update":{"_id":"3"}}',
        '{"doc":{}}',
        '{"index":{}}',
        "{broken",
        "",
      ].join("\n"),
      "dflt",
    );
    expect(ops.map((o) => [o.kind, o.action, o.index, o.id])).toEqual([
      ["doc", "create", "a", "1"],
      ["refused", "delete", "dflt", "2"],
      ["refused", "update", "dflt", "3"],
      ["doc", "index", "dflt", undefined],
    ]);
    expect(ops[3]?.kind === "doc" && ops[3].doc instanceof MalformedItem).toBe(true);
  });

  test("a repeated action line is read alike each time; the next different one is read anew", () => {
    const ops = parseBulk(
      [
        '{"create":{"_index":"a","_id":"1"}}',
        '{"message":"x"}',
        '{"create":{"_index":"a","_id":"1"}}',
        "",
        '  {"message":"y"}',
        '{"index":{}}',
        '{"message":"z"}',
        '{"index":{}}',
        "{broken",
        '{"delete":{"_id":"2"}}',
        '{"delete":{"_id":"2"}}',
        '{"index":{}}',
        '{"message":"w"}',
      ].join("\n"),
      "dflt",
    );
    expect(ops.map((o) => [o.kind, o.action, o.index, o.id])).toEqual([
      ["doc", "create", "a", "1"],
      ["doc", "create", "a", "1"],
      ["doc", "index", "dflt", undefined],
      ["doc", "index", "dflt", undefined],
      ["refused", "delete", "dflt", "2"],
      ["refused", "delete", "dflt", "2"],
      ["doc", "index", "dflt", undefined],
    ]);
    const docs = ops.map((o) => (o.kind === "doc" ? o.doc : undefined));
    expect(docs[1]).toEqual({ message: "y" });
    // Named by its place among the non-blank lines, as before.
    expect(docs[3] instanceof MalformedItem && docs[3].reason).toStartWith("line 8 is not valid JSON");
    expect(docs[6]).toEqual({ message: "w" });
  });

  test.each([
    ['{"nope":{}}\n{}\n', "expected one of [create, delete, index, update]"],
    ["not json\n{}\n", "Malformed action/metadata line [1]"],
    ['{"create":{}}\n{}\n', "index is missing"],
    ['{"create":{"_index":"a"}}\n', "has no document line"],
    ['{"create":{},"index":{}}\n{}\n', "one action"],
  ])("a broken action line fails the whole request: %j", (body, reason) => {
    expect(() => parseBulk(body, undefined)).toThrow(reason);
  });

  test("maps the usual field names and keeps the rest as metadata", () => {
    expect(
      bulkDocToEvent(
        {
          "@timestamp": "2026-01-02T03:04:05.678Z",
          log: { level: "warning", file: { path: "/p" } },
          message: "hello",
          service: { name: "api" },
          host: { name: "h" },
        },
        "idx",
        "id-1",
        limits,
      ),
    ).toEqual({
      level: "WARN",
      message: "hello",
      source: "api",
      timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      id: "id-1",
      metadata: { log: { file: { path: "/p" } }, service: { name: "api" }, host: { name: "h" } },
    });
  });

  test("source falls back to the container, the host, then the index; unknown words stay in metadata", () => {
    const ev = (doc: Record<string, unknown>) => bulkDocToEvent(doc, "my-index", undefined, limits);
    expect(ev({ msg: "m", kubernetes: { container_name: "web" } })).toMatchObject({ source: "web" });
    expect(ev({ log: "m", "host.name": "box" })).toMatchObject({ source: "box" });
    expect(ev({ message: "m", level: "loud" })).toMatchObject({
      source: "my-index",
      level: "INFO",
      metadata: { level: "loud" },
    });
    expect(ev({ a: 1 })).toMatchObject({ message: '{"a":1}', metadata: { a: 1 } });
    expect(ev({ message: "m", "@timestamp": "yesterday" })).toMatchObject({
      metadata: { "@timestamp": "yesterday" },
    });
  });
});

describe("HEC bodies", () => {
  test("splits concatenated objects with or without separators, braces inside strings included", () => {
    expect(splitConcatenated('{"a":"}{"}{"b":[1,{"c":2}]}\n {"d":"\\"}"}')).toEqual({
      parts: ['{"a":"}{"}', '{"b":[1,{"c":2}]}', '{"d":"\\"}"}'],
      badAt: undefined,
    });
    expect(splitConcatenated('{"a":1} x {"b":2}').badAt).toBe(8);
    expect(splitConcatenated('{"a":1}{"b":').badAt).toBe(7);
  });

  test("maps an event and tells its HEC error codes apart", () => {
    expect(
      hecToEvent(
        {
          time: "1700000000.25",
          host: "h",
          event: { message: "m", severity: "error", user: "u" },
          fields: { env: "p" },
        },
        100,
      ),
    ).toEqual({
      ok: true,
      event: {
        level: "ERROR",
        message: "m",
        source: "h",
        timestamp: 1_700_000_000_250,
        metadata: { user: "u", env: "p", host: "h" },
      },
    });
    expect(hecToEvent({ time: 1 }, 100)).toMatchObject({ ok: false, answer: { code: 12 } });
    expect(hecToEvent({ event: "" }, 100)).toMatchObject({ ok: false, answer: { code: 13 } });
    expect(hecToEvent([1], 100)).toMatchObject({ ok: false, answer: { code: 6 } });
  });
});

describe("syslog lines", () => {
  const at = Date.UTC(2026, 11, 6, 12, 0, 0);
  const sl = { maxMessageBytes: 64, maxSourceLength: 10 };

  test("RFC 5424 with structured data (escaped quote, bracket and backslash)", () => {
    const { format, event } = parseSyslog(
      '<165>1 2026-12-06T10:00:00.5Z web1 shop 42 ID7 [a@1 k="v \\" \\] \\\\"][b@2 x="y"] \uFEFFbody text',
      sl,
      at,
    );
    expect(format).toBe("rfc5424");
    expect(event).toEqual({
      level: "INFO",
      message: "body text",
      source: "shop",
      timestamp: Date.UTC(2026, 11, 6, 10, 0, 0, 500),
      metadata: {
        facility: "local4",
        severity: 5,
        hostname: "web1",
        appname: "shop",
        procid: "42",
        msgid: "ID7",
        structured_data: { "a@1": { k: 'v " ] \\' }, "b@2": { x: "y" } },
      },
    });
  });

  test("RFC 3164 with a tag and pid; the year is the latest one not in the future", () => {
    const { format, event } = parseSyslog("<11>Dec  6 11:59:00 host1 sshd[77]: Failed password", sl, at);
    expect(format).toBe("rfc3164");
    expect(event).toMatchObject({ level: "ERROR", source: "sshd", message: "Failed password" });
    expect(event.metadata).toEqual({
      facility: "user",
      severity: 3,
      hostname: "host1",
      appname: "sshd",
      procid: "77",
    });
    expect(new Date(event.timestamp as number).getFullYear()).toBe(2026);
  });

  test("anything else is malformed and kept whole, cut to the message limit", () => {
    for (const line of ["plain text", "<999>1 x", "<13>1 - - - - - [broken", ""]) {
      const { format, event } = parseSyslog(line, sl, at);
      expect(format).toBe("malformed");
      expect(event.source).toBe("syslog");
      expect(event.metadata).toEqual({ malformed: true });
    }
    expect(parseSyslog("y".repeat(100), sl, at).event.message).toBe("y".repeat(64));
    expect(parseStructuredData("[id")).toBeUndefined();
  });

  test("text cut at a byte limit never splits a character or keeps a NUL", () => {
    expect(storableCut("ééé", 5)).toBe("éé");
    expect(storableCut("a\u0000b", 10)).toBe("a\uFFFDb");
  });
});

describe("syslog TCP framing", () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  test("octet-counted and newline-framed messages, split anywhere across reads", () => {
    const stream = "11 <13>1 hello\n<13>1 two\r\n5 three";
    for (let cut = 1; cut < stream.length; cut++) {
      const f = new SyslogFramer(1000);
      const out = [...f.push(bytes(stream.slice(0, cut))), ...f.push(bytes(stream.slice(cut))), ...f.end()];
      expect(out).toEqual(["<13>1 hello", "<13>1 two", "three"]);
    }
  });

  test("a message over the limit is cut and the rest skipped, in both framings", () => {
    const f = new SyslogFramer(4);
    expect(f.push(bytes("abcdefgh"))).toEqual(["abcd"]);
    expect(f.push(bytes("ij\nok\n10 0123456789ok\n"))).toEqual(["ok", "0123", "ok"]);
  });
});

describe("API keys in each shipper's form", () => {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  test.each([
    [undefined, "k", ["k"]],
    ["Bearer k", null, ["k"]],
    ["Splunk k", null, ["k"]],
    [`Basic ${b64("elastic:k")}`, null, ["k"]],
    [`Basic ${b64("k:")}`, null, []],
    [`ApiKey ${b64("id:k")}`, null, [b64("id:k"), "k"]],
    ["ApiKey k", null, ["k"]],
    ["Digest k", null, []],
    ["Bearer wrong", "k", ["k"]],
  ])("%s / X-API-Key %s → %j", (authorization, apiKey, expected) => {
    expect(presentedKeys(authorization, apiKey)).toEqual(expected);
  });
});
