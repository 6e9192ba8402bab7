// The async endpoint's background sender: bounded, every give-up reported once, a drain bounded in time.

import { describe, expect, test } from "bun:test";
import { DomainError } from "../../src/domain/errors.ts";
import type { LogEvent } from "../../src/domain/log-event.ts";
import { createAsyncSender } from "../../src/services/async-sender.ts";

const ev = (id: string): LogEvent => ({
  id,
  level: "INFO",
  message: "m",
  source: "s",
  timestamp: 0,
  metadata: null,
});

/** A publish that settles when the test says, and records the signal it was given. */
const controlled = () => {
  const calls: { events: LogEvent[]; signal: AbortSignal; settle: (error?: Error) => void }[] = [];
  const publish = (events: LogEvent[], signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ events, signal, settle: (error) => (error ? reject(error) : resolve()) });
    });
  return { calls, publish };
};

const setup = (maxPending = 10) => {
  const bus = controlled();
  const givenUp: { error: unknown; ids: string[] }[] = [];
  const pending: number[] = [];
  let stored = 0;
  const sender = createAsyncSender({
    publish: bus.publish,
    maxPending,
    onStored: (n) => {
      stored += n;
    },
    onGiveUp: (error, events) => void givenUp.push({ error, ids: events.map((e) => e.id) }),
    onPending: (n) => void pending.push(n),
  });
  return { sender, bus, givenUp, pending, stored: () => stored };
};

describe("async sender", () => {
  test("refuses with 503 and Retry-After once maxPending events wait, and takes one again when one settles", async () => {
    const { sender, bus } = setup(2);
    sender.send([ev("a")]);
    sender.send([ev("b")]);
    let refusal: unknown;
    try {
      sender.send([ev("c")]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(DomainError);
    expect((refusal as DomainError).code).toBe("overloaded");
    expect((refusal as DomainError).retryAfter).toBe(1);
    bus.calls[0]?.settle();
    await Bun.sleep(0);
    expect(() => sender.send([ev("d")])).not.toThrow();
  });

  test("reports a give-up with the event ids, and counts what reached the bus", async () => {
    const { sender, bus, givenUp, pending, stored } = setup();
    sender.send([ev("ok")]);
    sender.send([ev("lost")]);
    bus.calls[0]?.settle();
    bus.calls[1]?.settle(new Error("broker down"));
    await sender.drain();
    expect(stored()).toBe(1);
    expect(givenUp.map((g) => g.ids)).toEqual([["lost"]]);
    expect(String(givenUp[0]?.error)).toContain("broker down");
    expect(pending).toEqual([1, 2, 1, 0]);
  });

  test("a drain past its deadline gives up what still waits, once, and aborts its retries", async () => {
    const { sender, bus, givenUp } = setup();
    sender.send([ev("slow-1")]);
    sender.send([ev("slow-2")]);
    await sender.drain(20);
    expect(givenUp.map((g) => g.ids)).toEqual([["slow-1", "slow-2"]]);
    expect(String(givenUp[0]?.error)).toContain("stopping");
    expect(bus.calls.every((c) => c.signal.aborted)).toBe(true);
    // Their retries end later in failure: already reported, not reported again.
    for (const c of bus.calls) c.settle(new Error("gave up"));
    await sender.drain();
    expect(givenUp).toHaveLength(1);
  });
});
