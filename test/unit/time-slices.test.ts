import { describe, expect, test } from "bun:test";
import { createTimeSlicer } from "../../src/services/time-slices.ts";

describe("time slices", () => {
  test("slices of concurrent work take turns: other timers run between two of them", async () => {
    const order: string[] = [];
    const a = createTimeSlicer(0);
    const b = createTimeSlicer(0);
    const resumed = [a.pause().then(() => order.push("a")), b.pause().then(() => order.push("b"))];
    const other = new Promise<void>((resolve) =>
      setTimeout(() => {
        order.push("timer");
        resolve();
      }, 0),
    );
    await Promise.all([...resumed, other]);
    expect(order).toEqual(["a", "timer", "b"]);
  });

  test("a slice is due once its budget has passed, and a pause starts a new one", async () => {
    const slicer = createTimeSlicer(20);
    expect(slicer.due()).toBe(false);
    const until = performance.now() + 21;
    while (performance.now() < until) {
      // spin past the budget
    }
    expect(slicer.due()).toBe(true);
    await slicer.pause();
    expect(slicer.due()).toBe(false);
  });
});
