// The syslog listener of the producer role: TCP (octet-counted or newline-framed) and UDP on SYSLOG_PORT.

import type { Socket, TCPSocketListener } from "bun";
import { parseSyslog } from "../domain/ingest/syslog.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Ingest } from "../services/ingest.ts";
import { SyslogFramer } from "./framing.ts";
import { type SyslogItem, SyslogSink } from "./sink.ts";

export interface SyslogSettings {
  host: string;
  port: number;
  maxConnections: number;
  maxLineBytes: number;
  idleTimeoutS: number;
}

export interface SyslogDeps {
  ingest: Ingest;
  logger: Logger;
  metrics?: Metrics;
}

export interface SyslogServer {
  port: number;
  stop(): Promise<void>;
}

interface Connection {
  framer: SyslogFramer;
  sink: SyslogSink;
}

/** UDP has no way to slow a sender: past this many waiting messages, datagrams are dropped (and logged). */
const UDP_MAX_PENDING = 100_000;

export const startSyslog = async (s: SyslogSettings, deps: SyslogDeps): Promise<SyslogServer> => {
  const { ingest, logger, metrics } = deps;
  let stopped = false;
  const isStopped = () => stopped;
  const limits = ingest.settings.limits;
  const sinks = new Set<SyslogSink>();
  let open = 0;

  const parse = (lines: string[]): SyslogItem[] =>
    lines.map((line) => {
      const { format, event } = parseSyslog(line, limits);
      metrics?.syslogMessages.inc({ format });
      return { line, event };
    });

  const tcp: TCPSocketListener<Connection | undefined> = Bun.listen<Connection | undefined>({
    hostname: s.host,
    port: s.port,
    socket: {
      open(socket: Socket<Connection | undefined>) {
        if (open >= s.maxConnections || stopped) {
          metrics?.syslogRefused.inc();
          socket.end();
          return;
        }
        open++;
        metrics?.syslogConnections.set(open);
        const sink = new SyslogSink(ingest, logger, isStopped, (busy) => {
          if (busy) socket.pause();
          else socket.resume();
        });
        sinks.add(sink);
        socket.data = { framer: new SyslogFramer(s.maxLineBytes), sink };
        socket.timeout(s.idleTimeoutS);
      },
      data(socket, chunk) {
        const conn = socket.data;
        if (conn) conn.sink.add(parse(conn.framer.push(chunk)));
      },
      timeout(socket) {
        socket.end();
      },
      close(socket) {
        const conn = socket.data;
        if (!conn) return;
        socket.data = undefined;
        open--;
        metrics?.syslogConnections.set(open);
        conn.sink.add(parse(conn.framer.end()));
        void conn.sink.drain().finally(() => sinks.delete(conn.sink));
      },
      error(_socket, error) {
        logger.warn("syslog: connection error", { error });
      },
    },
  });

  const udpSink = new SyslogSink(ingest, logger, isStopped);
  sinks.add(udpSink);
  let dropped = 0;
  const udp = await Bun.udpSocket({
    hostname: s.host,
    port: tcp.port,
    socket: {
      data(_socket, buf) {
        if (udpSink.size >= UDP_MAX_PENDING) {
          if (dropped++ % 10_000 === 0)
            logger.warn("syslog: UDP messages dropped, the bus is behind", { dropped });
          return;
        }
        const text = new TextDecoder().decode(buf.subarray(0, s.maxLineBytes)).replace(/[\r\n\0]+$/, "");
        if (text !== "") udpSink.add(parse([text]));
      },
    },
  });
  logger.info("syslog listening", { host: s.host, port: tcp.port, transports: ["tcp", "udp"] });

  return {
    port: tcp.port,
    stop: async () => {
      tcp.stop(true);
      udp.close();
      // What was read is published before the bus stops; a batch the bus keeps refusing is given up here.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 10_000);
      });
      await Promise.race([Promise.all([...sinks].map((k) => k.drain())), deadline]);
      clearTimeout(timer);
      stopped = true;
    },
  };
};
