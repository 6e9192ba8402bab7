// Where a process listens, seen from outside it: the kernel's socket tables and this machine's addresses.

import { networkInterfaces } from "node:os";

/** An IPv4 address of this machine that is not loopback (undefined when it has none). */
export const nonLoopbackAddress = (): string | undefined =>
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;

/** /proc/net/tcp's little-endian hex IPv4 ("0100007F") as dotted text. */
const ipv4 = (hex: string): string =>
  [6, 4, 2, 0].map((at) => Number.parseInt(hex.slice(at, at + 2), 16)).join(".");

/** /proc/net/tcp6's address: four little-endian 32-bit words; "::" and "::1" are all this test needs. */
const ipv6 = (hex: string): string => {
  if (/^0+$/.test(hex)) return "::";
  if (hex === "00000000000000000000000001000000") return "::1";
  return `ipv6:${hex}`;
};

/** The local addresses of the sockets listening on `port` (TCP state 0A), from /proc/net/tcp and tcp6. */
export const listenersOn = async (port: number): Promise<string[]> => {
  const found: string[] = [];
  for (const [file, decode] of [
    ["/proc/net/tcp", ipv4],
    ["/proc/net/tcp6", ipv6],
  ] as const) {
    const text = await Bun.file(file)
      .text()
      .catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue;
      const [addr, portHex] = local.split(":");
      if (addr && portHex && Number.parseInt(portHex, 16) === port) found.push(decode(addr));
    }
  }
  return found;
};

/** Connects to host:port over TCP: "connected", or the error code when the connection is refused. */
export const tryConnect = async (host: string, port: number): Promise<string> => {
  try {
    const socket = await Bun.connect({ hostname: host, port, socket: { data() {} } });
    socket.end();
    return "connected";
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
};
