// Syslog: RFC 5424 messages, octet-counted, over four TCP connections; timed until the topic holds them all.

import { connect, type Socket } from "node:net";
import type { Level } from "../../src/domain/level.ts";
import type { ProtocolBench } from "./types.ts";

const SEVERITY: Record<Level, number> = { TRACE: 7, DEBUG: 7, INFO: 6, WARN: 4, ERROR: 3, FATAL: 2 };
const CONNECTIONS = 4;

export const syslogTcp: ProtocolBench = {
  name: "syslog_tcp",
  unacked: true,
  async prepare(batches, target) {
    const frames = batches.map((b) =>
      Buffer.from(
        b
          .map((e) => {
            const msg = `<${16 * 8 + SEVERITY[e.level]}>1 ${new Date(e.timestamp).toISOString()} bench ${e.source} - - - ${e.message}`;
            return `${Buffer.byteLength(msg)} ${msg}`;
          })
          .join(""),
      ),
    );
    const sockets: Socket[] = await Promise.all(
      Array.from(
        { length: CONNECTIONS },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = connect({ host: "127.0.0.1", port: target.syslogPort }, () => resolve(s));
            s.once("error", reject);
          }),
      ),
    );
    return {
      send: (i) =>
        new Promise<void>((resolve, reject) => {
          const socket = sockets[i % CONNECTIONS];
          const frame = frames[i % frames.length];
          if (!socket || !frame) return reject(new Error("no socket or frame"));
          socket.write(frame, (error) => (error ? reject(error) : resolve()));
        }),
      close: async () => {
        for (const s of sockets) s.end();
      },
    };
  },
};
