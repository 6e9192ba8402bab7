// Live-tail slots: bounded per client and in total, each refusal naming its setting, every release counted once.

import { describe, expect, test } from "bun:test";
import { DomainError } from "../../src/domain/errors.ts";
import { createTailSlots } from "../../src/http/tail-slots.ts";

const refusal = (f: () => unknown): DomainError => {
  try {
    f();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
};

describe("tail slots", () => {
  test("a client past its bound is refused (429 with Retry-After) while other clients still get slots", () => {
    const refused: string[] = [];
    const slots = createTailSlots({ total: 10, perClient: 2 }, (scope) => refused.push(scope));
    slots.acquire("key:a");
    slots.acquire("key:a");
    const e = refusal(() => slots.acquire("key:a"));
    expect(e.code).toBe("rate_limited");
    expect(e.retryAfter).toBeGreaterThanOrEqual(1);
    expect(e.message).toContain("MAX_TAIL_STREAMS_PER_CLIENT=2");
    slots.acquire("key:b");
    expect(slots.open()).toBe(3);
    expect(refused).toEqual(["tail_client"]);
  });

  test("past the total every client is refused; a release frees one slot, however often it is called", () => {
    const slots = createTailSlots({ total: 2, perClient: 5 });
    const release = slots.acquire("ip:1");
    slots.acquire("ip:2");
    expect(refusal(() => slots.acquire("ip:3")).message).toContain("MAX_TAIL_STREAMS=2");
    release();
    release();
    expect(slots.open()).toBe(1);
    slots.acquire("ip:3");
    expect(refusal(() => slots.acquire("ip:4")).code).toBe("rate_limited");
  });

  test("clients named like Object's own properties are counted like any other", () => {
    const slots = createTailSlots({ total: 100, perClient: 1 });
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      const release = slots.acquire(name);
      expect(refusal(() => slots.acquire(name)).code).toBe("rate_limited");
      release();
      slots.acquire(name);
    }
    expect(slots.open()).toBe(4);
  });
});
