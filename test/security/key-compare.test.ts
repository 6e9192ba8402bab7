// API keys are compared with crypto.timingSafeEqual against every configured key: checked by behaviour (which
// keys match, how many constant-time comparisons a request costs), never by timing.

import { describe, expect, setDefaultTimeout, spyOn, test } from "bun:test";
import * as crypto from "node:crypto";
import { Hono } from "hono";
import { apiKeyAuth, matchesKey, requestId } from "../../src/http/middleware.ts";

setDefaultTimeout(30_000);

const KEYS = ["k-first-2c9e", "k-second-much-longer-0f1b7d", "clé-ünïcode-🔑"];

describe("matchesKey", () => {
  test("accepts exactly the configured keys", () => {
    for (const key of KEYS) expect(matchesKey(key, KEYS)).toBe(true);
  });

  test.each([
    ["empty", ""],
    ["a prefix", "k-first-2c9"],
    ["an extension", "k-first-2c9ex"],
    ["another case", "K-FIRST-2C9E"],
    ["same length, one byte off", "k-first-2c9f"],
    ["surrounded by spaces", " k-first-2c9e "],
    ["two keys joined", "k-first-2c9e,k-second-much-longer-0f1b7d"],
    ["the unicode key decomposed (NFD)", "clé-ünïcode-🔑".normalize("NFD")],
    ["the unicode key without its emoji", "clé-ünïcode-"],
    ["a NUL-padded key", "k-first-2c9e\u0000"],
  ])("refuses %s", (_what, given) => {
    expect(matchesKey(given, KEYS)).toBe(false);
  });

  test("refuses everything when no key is configured", () => {
    expect(matchesKey("", [])).toBe(false);
    expect(matchesKey("anything", [])).toBe(false);
  });
});

describe("the comparison is constant-time", () => {
  test("matchesKey makes one timingSafeEqual comparison per configured key, match or not, first or last", () => {
    const spy = spyOn(crypto, "timingSafeEqual");
    try {
      for (const given of [KEYS[0] as string, KEYS[2] as string, "nope", "", "x".repeat(500)]) {
        spy.mockClear();
        matchesKey(given, KEYS);
        // No early exit on a match and no shortcut on a length mismatch: timing tells neither key nor position.
        expect(spy).toHaveBeenCalledTimes(KEYS.length);
        for (const [a, b] of spy.mock.calls)
          expect((a as Uint8Array).byteLength).toBe((b as Uint8Array).byteLength);
      }
    } finally {
      spy.mockRestore();
    }
  });

  test("the API-key middleware of src/http/middleware.ts goes through timingSafeEqual for every request", async () => {
    const app = new Hono();
    app.use(
      "*",
      requestId(),
      apiKeyAuth(KEYS, () => "test"),
    );
    app.get("/x", (c) => c.text("ok"));
    const spy = spyOn(crypto, "timingSafeEqual");
    try {
      for (const [headers, status] of [
        [{ authorization: `Bearer ${KEYS[1]}` }, 200],
        [{ "x-api-key": KEYS[0] as string }, 200],
        [{ authorization: "Bearer wrong" }, 401],
        [{ "x-api-key": (KEYS[0] as string).slice(0, -1) }, 401],
      ] as const) {
        spy.mockClear();
        const res = await app.request("/x", { headers });
        expect(res.status).toBe(status);
        expect(spy).toHaveBeenCalledTimes(KEYS.length);
      }
      // A request with no key at all is refused before any comparison: there is nothing to time.
      spy.mockClear();
      expect((await app.request("/x")).status).toBe(401);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
