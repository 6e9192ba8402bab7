// The soak's faults: role restarts (SIGTERM or kill -9, at random instants, some with a batch in flight) and
// outages of its private Kafka, PostgreSQL and Redis, spread over the run; the takeover after a consumer kill -9.

import type { Ledger } from "./ledger.ts";
import type { PrivateServices, Service } from "./services.ts";
import type { RoleName, Topology } from "./topology.ts";

export type Action =
  | { kind: "restart"; role: RoleName; signal: "SIGTERM" | "SIGKILL" }
  | { kind: "outage"; service: Service };

export interface ChaosTally {
  restarts: { role: RoleName; signal: string; atS: number; inFlight: number }[];
  outages: { service: Service; atS: number; downMs: number }[];
  /** kill -9 of a consumer → first row stored after it (one consumer holds every partition), ms. */
  takeoversMs: number[];
  /** The same kills: when the new consumer was started and when its health said it joined the group, ms. */
  takeoverSteps: { spawnedMs: number; joinedMs: number }[];
}

/** A small seeded generator, so a run's schedule can be told and repeated. */
export const seeded = (seed: number): (() => number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const shuffle = <T>(xs: T[], random: () => number): T[] => {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
};

/** Restarts spread over the roles, half of each signal; split mode always kills a consumer -9 at least once. */
export const schedule = (
  roles: RoleName[],
  restarts: number,
  outages: Service[],
  random: () => number,
): Action[] => {
  const actions: Action[] = [];
  // Each role in turn; the signal alternates along the list and from one round over the roles to the next,
  // so every role meets both signals once there are two rounds.
  for (let i = 0; i < restarts; i++)
    actions.push({
      kind: "restart",
      role: roles[i % roles.length] as RoleName,
      signal: ((i % roles.length) + Math.floor(i / roles.length)) % 2 === 0 ? "SIGKILL" : "SIGTERM",
    });
  const consumerKilled = actions.some(
    (a) => a.kind === "restart" && a.role === "consumer" && a.signal === "SIGKILL",
  );
  const k = actions.findIndex((a) => a.kind === "restart" && a.role === "consumer");
  if (!consumerKilled && k >= 0) actions[k] = { kind: "restart", role: "consumer", signal: "SIGKILL" };
  for (const service of outages) actions.push({ kind: "outage", service });
  return shuffle(actions, random);
};

export interface ChaosDeps {
  topology: Topology;
  services: PrivateServices | undefined;
  ledger: Ledger;
  random: () => number;
  /** The store's highest committed arrival sequence (split mode), for the takeover. */
  watermark?: () => Promise<number>;
  outageMs: [number, number];
  log: (line: string) => void;
}

const between = (random: () => number, [lo, hi]: [number, number]) => lo + random() * (hi - lo);

const pollUntilAbove = async (read: () => Promise<number>, floor: number, boundMs: number) => {
  const until = Date.now() + boundMs;
  while (Date.now() < until) {
    if ((await read().catch(() => floor)) > floor) return Date.now();
    await Bun.sleep(100);
  }
  return undefined;
};

const restart = async (d: ChaosDeps, a: Extract<Action, { kind: "restart" }>, t: ChaosTally, t0: number) => {
  const killedAt = Date.now();
  t.restarts.push({
    role: a.role,
    signal: a.signal,
    atS: (killedAt - t0) / 1000,
    inFlight: d.ledger.inFlight,
  });
  await d.topology.stopRole(a.role, a.signal);
  const takeover = a.role === "consumer" && a.signal === "SIGKILL" && d.watermark;
  // A COMMIT already sent by the killed process may still land: read the floor a moment after the exit.
  let floor = 0;
  if (takeover && d.watermark) {
    await Bun.sleep(300);
    floor = await d.watermark();
  }
  // A supervisor restarts a crashed process within a second or two; the takeover is timed from a prompt one.
  await Bun.sleep(takeover ? 200 : between(d.random, [200, 1500]));
  d.topology.spawn(a.role);
  const spawnedMs = Date.now() - killedAt;
  const healthy = d.topology.healthy(a.role).then(() => Date.now() - killedAt);
  if (takeover && d.watermark) {
    const at = await pollUntilAbove(d.watermark, floor, 120_000);
    t.takeoversMs.push(at === undefined ? Number.POSITIVE_INFINITY : at - killedAt);
    t.takeoverSteps.push({ spawnedMs, joinedMs: await healthy });
  }
  await healthy;
};

const outage = async (d: ChaosDeps, service: Service, t: ChaosTally, t0: number) => {
  if (!d.services) throw new Error("an outage needs the private services");
  const downAt = Date.now();
  await d.services.stop(service);
  await Bun.sleep(between(d.random, d.outageMs));
  await d.services.start(service);
  t.outages.push({ service, atS: (downAt - t0) / 1000, downMs: Date.now() - downAt });
  for (const role of d.topology.roles) await d.topology.healthy(role, 180_000);
};

/** Runs the actions one after another, the i-th at a random instant in the first half of its slot. */
export const runChaos = async (d: ChaosDeps, actions: Action[], durationMs: number): Promise<ChaosTally> => {
  const tally: ChaosTally = { restarts: [], outages: [], takeoversMs: [], takeoverSteps: [] };
  const t0 = Date.now();
  const slot = durationMs / Math.max(1, actions.length);
  for (const [i, a] of actions.entries()) {
    const at = t0 + i * slot + d.random() * slot * 0.5;
    if (at > Date.now()) await Bun.sleep(at - Date.now());
    const began = Date.now();
    if (a.kind === "restart") await restart(d, a, tally, t0);
    else await outage(d, a.service, tally, t0);
    d.log(
      `${a.kind === "restart" ? `${a.role} ${a.signal}` : `${a.service} outage`} at ${Math.round((began - t0) / 1000)} s, back after ${Math.round((Date.now() - began) / 1000)} s`,
    );
  }
  const rest = t0 + durationMs - Date.now();
  if (rest > 0) await Bun.sleep(rest);
  return tally;
};
