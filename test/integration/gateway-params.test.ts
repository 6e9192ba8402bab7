// Every query parameter of the gateway over HTTP: accepted forms, and a 400 JSON error naming the bad one.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { encodeCursor } from "../../src/domain/cursor.ts";
import { createGatewayFixture, type GatewayFixture, qs } from "./gateway-fixture.ts";

let f: GatewayFixture;
const HOUR = 3_600_000;
const now = Date.now();

beforeAll(async () => {
  f = await createGatewayFixture();
  await f.write(
    { message: "recent info", level: "INFO", source: "api", timestamp: now - 1000 },
    { message: "recent error", level: "ERROR", source: "db", timestamp: now - 2000 },
    { message: "two hours ago", level: "WARN", source: "api", timestamp: now - 2 * HOUR },
    { message: "two days ago", level: "ERROR", source: "api", timestamp: now - 48 * HOUR },
  );
});
afterAll(() => f.close());

const messages = async (path: string): Promise<string[]> => {
  const r = await f.get(path);
  expect(r.status).toBe(200);
  return r.body.content.map((e: { message: string }) => e.message);
};

/** Asserts a 400 in the one error shape, naming exactly these parameters. */
const rejects = async (path: string, fields: string[]) => {
  const r = await f.get(path);
  expect(r.status).toBe(400);
  expect(r.headers.get("content-type")).toContain("application/json");
  expect(r.body).toMatchObject({ error: "validation_failed", requestId: expect.any(String) });
  expect(r.body.details.map((d: { field: string }) => d.field)).toEqual(fields);
  for (const field of fields) expect(r.body.message).toContain(field);
};

describe("time window", () => {
  test("defaults to the last 24 hours", async () => {
    expect(await messages("logs")).toEqual(["recent info", "recent error", "two hours ago"]);
  });

  test("startTime and endTime accept ISO-8601 with a zone, without one (UTC) and epoch ms", async () => {
    const start = new Date(now - 3 * HOUR).toISOString();
    const end = new Date(now - HOUR).toISOString();
    const expected = ["two hours ago"];
    expect(await messages(`logs?${qs({ startTime: start, endTime: end })}`)).toEqual(expected);
    expect(
      await messages(`logs?${qs({ startTime: start.replace("Z", ""), endTime: end.replace("Z", "") })}`),
    ).toEqual(expected);
    const plus2 = (iso: string) => {
      const d = new Date(Date.parse(iso) + 2 * HOUR).toISOString().replace("Z", "+02:00");
      return d;
    };
    expect(await messages(`logs?${qs({ startTime: plus2(start), endTime: plus2(end) })}`)).toEqual(expected);
    expect(await messages(`logs?${qs({ startTime: now - 3 * HOUR, endTime: now - HOUR })}`)).toEqual(
      expected,
    );
  });

  test("a window reaching back further includes older events", async () => {
    expect(await messages(`logs?${qs({ startTime: now - 72 * HOUR })}`)).toContain("two days ago");
  });

  test("bad times are refused, naming the parameter", async () => {
    await rejects("logs?startTime=yesterday", ["startTime"]);
    await rejects("logs?endTime=2026-02-30T25:00:00Z", ["endTime"]);
    await rejects(`logs?${qs({ startTime: now, endTime: now - 1 })}`, ["startTime"]);
  });
});

describe("level and source", () => {
  test("take one value, case-insensitive for levels", async () => {
    expect(await messages("logs?level=error")).toEqual(["recent error"]);
    expect(await messages("logs?source=api")).toEqual(["recent info", "two hours ago"]);
  });

  test("take comma-separated lists", async () => {
    expect(await messages("logs?level=INFO,WARN")).toEqual(["recent info", "two hours ago"]);
    expect(await messages("logs?source=db,api&level=ERROR,INFO")).toEqual(["recent info", "recent error"]);
  });

  test("take repeated parameters as a list too", async () => {
    expect(await messages("logs?level=INFO&level=WARN")).toEqual(["recent info", "two hours ago"]);
  });

  test("a source nobody logs from gives an empty page", async () => {
    const r = await f.get("logs?source=nobody");
    expect(r.body).toMatchObject({ content: [], empty: true, totalElements: 0, numberOfElements: 0 });
  });

  test("bad values are refused, naming the parameter", async () => {
    await rejects("logs?level=INFO,SHOUT", ["level"]);
    await rejects(`logs?${qs({ source: "s".repeat(101) })}`, ["source"]);
  });
});

describe("page, size and cursor", () => {
  test("size must be 1 to 1000", async () => {
    expect((await f.get("logs?size=1")).body.size).toBe(1);
    expect((await f.get("logs?size=1000")).body.size).toBe(1000);
    await rejects("logs?size=0", ["size"]);
    await rejects("logs?size=1001", ["size"]);
    await rejects("logs?size=lots", ["size"]);
  });

  test("page must be a whole number within the offset bound", async () => {
    expect((await f.get("logs?page=1&size=2")).body.number).toBe(1);
    await rejects("logs?page=-1", ["page"]);
    await rejects("logs?page=one", ["page"]);
    await rejects("logs?page=10&size=1000", ["page"]);
  });

  test("a cursor must be one the service issued", async () => {
    await rejects("logs?cursor=forged", ["cursor"]);
    const ok = encodeCursor({ ts: now, id: "", seq: 10 });
    expect((await f.get(`logs?cursor=${ok}`)).status).toBe(200);
  });

  test("every bad parameter is named in one answer", async () => {
    await rejects("logs?size=0&page=x&level=NOPE&startTime=soon&cursor=%21", [
      "startTime",
      "level",
      "page",
      "size",
      "cursor",
    ]);
  });
});

describe("search parameters", () => {
  test("query is required", async () => {
    await rejects("search", ["query"]);
    await rejects("search?query=", ["query"]);
    await rejects("search?query=%22%22", ["query"]);
  });

  test("q is accepted for query, with the listing's filters", async () => {
    const r = await f.get("search?q=recent&level=ERROR");
    expect(r.status).toBe(200);
    expect(r.body.content.map((e: { message: string }) => e.message)).toEqual(["recent error"]);
  });

  test("filter errors are reported with the query's", async () => {
    await rejects("search?size=0", ["query", "size"]);
    await rejects(`search?${qs({ query: "x".repeat(1001) })}`, ["query"]);
  });
});

describe("stats parameters", () => {
  test("hoursBack must be 1 to 8760", async () => {
    expect((await f.get("stats?hoursBack=1")).status).toBe(200);
    expect((await f.get("stats?hoursBack=8760")).status).toBe(200);
    await rejects("stats?hoursBack=0", ["hoursBack"]);
    await rejects("stats?hoursBack=8761", ["hoursBack"]);
    await rejects("stats?hoursBack=week", ["hoursBack"]);
  });
});

describe("tail parameters", () => {
  test("bad filters and positions are refused before the stream opens", async () => {
    await rejects("tail?level=LOUD", ["level"]);
    await rejects("tail?query=%21%21", ["query"]);
    await rejects("tail?cursor=forged", ["cursor"]);
    const r = await f.get("tail", { "Last-Event-ID": "forged" });
    expect(r.status).toBe(400);
    expect(r.body.details[0].field).toBe("Last-Event-ID");
  });
});

describe("by id", () => {
  test("an unknown id is a 404 in the error shape", async () => {
    const r = await f.get("logs/no-such-id");
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ error: "not_found", message: expect.stringContaining("no-such-id") });
  });

  test("an id longer than any stored one is a 404", async () => {
    expect((await f.get(`logs/${"x".repeat(65)}`)).status).toBe(404);
  });

  test("a known id answers the event", async () => {
    const [e] = await f.write({ message: "find me" });
    const r = await f.get(`logs/${encodeURIComponent(e?.id ?? "")}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: e?.id, message: "find me", level: "INFO", source: "svc-a" });
  });
});

test("unknown routes answer 404 JSON", async () => {
  const r = await f.get("/gateway/api/query/nothing");
  expect(r.status).toBe(404);
  expect(r.body.error).toBe("not_found");
});
