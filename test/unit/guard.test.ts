import { describe, expect, test } from "bun:test";
import { TaskCancelledError } from "cockatiel";
import { bounded, createGuard } from "../../src/adapters/guard.ts";

describe("bounded", () => {
  test("passes a call's value and its rejection through unchanged", async () => {
    expect(await bounded(1000, async () => 7)).toBe(7);
    expect(await bounded(1000, () => "sync")).toBe("sync");
    const failure = new Error("bus down");
    await expect(bounded(1000, async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  test("the call starts before bounded() returns", async () => {
    let started = false;
    const bound = bounded(1000, async () => {
      started = true;
    });
    expect(started).toBe(true);
    await bound;
  });

  test("a call that throws before returning a promise rejects with its error at once", async () => {
    const failure = new Error("thrown");
    const started = performance.now();
    await expect(
      bounded(5000, () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(performance.now() - started).toBeLessThan(4000);
  });

  test("a call that never settles is rejected with TaskCancelledError at the bound", async () => {
    const started = performance.now();
    const error = await bounded(50, () => new Promise<never>(() => {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  test("a call that settles after the bound changes nothing", async () => {
    let finish = (_: string) => {};
    const late = new Promise<string>((resolve) => {
      finish = resolve;
    });
    const error = await bounded(20, () => late).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskCancelledError);
    finish("late");
    await late;
  });
});

describe("createGuard", () => {
  test("timeouts count toward opening the circuit, which then refuses without calling", async () => {
    const guard = createGuard({ timeoutMs: 20, failureThreshold: 2, halfOpenAfterMs: 60_000 });
    let calls = 0;
    const hang = () => {
      calls++;
      return new Promise<never>(() => {});
    };
    for (let i = 0; i < 2; i++)
      expect(await guard.policy.execute(hang).catch((e: unknown) => e)).toBeInstanceOf(TaskCancelledError);
    expect(guard.state()).toBe("open");
    await expect(guard.policy.execute(hang)).rejects.toThrow();
    expect(calls).toBe(2);
  });

  test("within() never bounds a call below the guard's own timeout", async () => {
    const guard = createGuard({ timeoutMs: 80, failureThreshold: 5, halfOpenAfterMs: 1000 });
    const value = await guard.within(10).execute(() => Bun.sleep(40).then(() => "in time"));
    expect(value).toBe("in time");
  });
});
