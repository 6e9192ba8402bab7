// Free loopback ports for the tests and benchmarks to start servers on.
//
// A port the kernel hands out for port 0 comes from the ephemeral range, the same range it takes the local port
// of every outgoing connection from: between finding it free and a spawned server binding it, a Kafka client,
// a database pool or a fetch in any process could take it ("Failed to start server. Is port N in use?"). So
// ports are picked below that range, where no connection's local port lands, and each one is handed out once.

import { readFileSync } from "node:fs";

/** Lowest port of the kernel's ephemeral range (32768 when it cannot be read). */
const ephemeralLow = (): number => {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 1024 ? low : 32_768;
  } catch {
    return 32_768;
  }
};

const LOW = 10_000;
const HIGH = Math.max(LOW + 1_000, ephemeralLow()); // exclusive
const handedOut = new Set<number>();

const bindable = (port: number): boolean => {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return true;
  } catch {
    return false;
  }
};

/** A TCP port on 127.0.0.1 that nothing listens on now, outside the ephemeral range, not handed out before. */
export const freePort = (): number => {
  for (let tries = 0; tries < 1_000; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port) || !bindable(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${LOW} and ${HIGH}`);
};
