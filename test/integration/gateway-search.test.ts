// Full-text search over HTTP: words ANDed, "phrases", -exclusions, case-insensitive, matched terms per hit.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createGatewayFixture, type GatewayFixture, qs } from "./gateway-fixture.ts";

let f: GatewayFixture;
const t = Date.now() - 60_000;

beforeAll(async () => {
  f = await createGatewayFixture();
  await f.write(
    {
      id: "m1",
      timestamp: t + 1,
      level: "ERROR",
      source: "db",
      message: "Connection reset by peer while writing",
    },
    {
      id: "m2",
      timestamp: t + 2,
      level: "WARN",
      source: "db",
      message: "connection pool exhausted, reset pending",
    },
    {
      id: "m3",
      timestamp: t + 3,
      level: "INFO",
      source: "api",
      message: "user=alice logged in from 10.0.0.7",
    },
    {
      id: "m4",
      timestamp: t + 4,
      level: "ERROR",
      source: "api",
      message: "Timeout calling payments; will retry",
    },
    {
      id: "m5",
      timestamp: t + 5,
      level: "ERROR",
      source: "api",
      message: "timeout calling payments, giving up",
    },
    { id: "m6", timestamp: t + 6, level: "DEBUG", source: "api", message: "TIMEOUTS are counted here" },
  );
});
afterAll(() => f.close());

const search = async (params: Record<string, string | number>) => {
  const r = await f.get(`search?${qs(params)}`);
  expect(r.status).toBe(200);
  return r.body;
};
const hits = async (query: string, extra: Record<string, string | number> = {}) =>
  (await search({ query, ...extra })).content.map((e: { id: string }) => e.id);

describe("search", () => {
  test("words are ANDed, in any order", async () => {
    expect(await hits("connection reset")).toEqual(["m2", "m1"]);
    expect(await hits("reset connection peer")).toEqual(["m1"]);
  });

  test("a quoted phrase must appear in order and adjacent", async () => {
    expect(await hits('"connection reset"')).toEqual(["m1"]);
    expect(await hits('"reset connection"')).toEqual([]);
  });

  test("a leading minus excludes a word", async () => {
    expect(await hits("timeout -retry")).toEqual(["m5"]);
    expect(await hits("connection -pool")).toEqual(["m1"]);
  });

  test("matching is case-insensitive on whole words", async () => {
    expect(await hits("TIMEOUT")).toEqual(["m5", "m4"]);
    expect(await hits("timeouts")).toEqual(["m6"]);
  });

  test("punctuation separates words, so key=value and addresses are searchable", async () => {
    expect(await hits("alice")).toEqual(["m3"]);
    expect(await hits('"10 0 0 7"')).toEqual(["m3"]);
  });

  test("each hit says which terms it matched", async () => {
    const body = await search({ query: 'Timeout "calling payments" -retry' });
    expect(body.content).toHaveLength(1);
    expect(body.content[0]).toMatchObject({ id: "m5", matched: ["timeout", '"calling payments"'] });
  });

  test("a query of exclusions only lists everything else", async () => {
    expect(await hits("-timeout -timeouts -connection")).toEqual(["m3"]);
    expect(await hits("-timeout", { source: "api" })).toEqual(["m6", "m3"]);
  });

  test("takes the listing's filters", async () => {
    expect(await hits("timeout", { level: "ERROR" })).toEqual(["m5", "m4"]);
    expect(await hits("connection", { source: "db", level: "WARN" })).toEqual(["m2"]);
    expect(await hits("connection", { endTime: t + 1 })).toEqual(["m1"]);
  });

  test("answers the page shape with exact totals and pages by number and by cursor", async () => {
    const p0 = await search({ query: "calling", size: 1 });
    expect(p0).toMatchObject({
      totalElements: 2,
      totalElementsExact: true,
      totalPages: 2,
      first: true,
      last: false,
    });
    const p1 = await search({ query: "calling", size: 1, page: 1 });
    const c1 = await search({ query: "calling", size: 1, cursor: p0.nextCursor });
    expect(p1.content[0].id).toBe("m4");
    expect(c1.content[0].id).toBe("m4");
    expect(c1.last).toBe(true);
  });

  test("no hit is an empty page, not an error", async () => {
    expect(await search({ query: "nothing-like-this" })).toMatchObject({
      content: [],
      empty: true,
      totalElements: 0,
    });
  });
});
