// Listening stand-ins that record what our Kafka and Redis clients send on connect: TLS or not, which SASL
// mechanism, user and proof, which AUTH. They speak just enough protocol to get the clients that far.

import { readFileSync } from "node:fs";
import type { Pki } from "./pki.ts";

export interface Recorder {
  port: number;
  /** Bytes received in plain text (after TLS, when the listener terminates it). */
  received(): Buffer;
  /** True when the first bytes a client sent were a TLS handshake record. */
  sawTlsHello(): boolean;
  stop(): void;
}

interface ConnState {
  buf: Buffer;
}

/**
 * A TCP listener; `tls` terminates TLS with the PKI's server certificate. `reply` answers what arrived so far
 * (returns the bytes consumed and the answer) and keeps the connection going.
 */
const listen = (
  opts: { pki?: Pki },
  reply: (pending: Buffer) => { consumed: number; answer?: Buffer; close?: boolean } | undefined,
): Recorder => {
  const chunks: Buffer[] = [];
  let first: number | undefined;
  const server = Bun.listen<ConnState>({
    hostname: "127.0.0.1",
    port: 0,
    ...(opts.pki
      ? {
          tls: {
            cert: readFileSync(opts.pki.serverCert, "utf8"),
            key: readFileSync(opts.pki.serverKey, "utf8"),
          },
        }
      : {}),
    socket: {
      open(socket) {
        socket.data = { buf: Buffer.alloc(0) };
      },
      data(socket, data) {
        const bytes = Buffer.from(data);
        first ??= bytes[0];
        chunks.push(bytes);
        socket.data.buf = Buffer.concat([socket.data.buf, bytes]);
        for (;;) {
          const r = reply(socket.data.buf);
          if (!r) break;
          socket.data.buf = socket.data.buf.subarray(r.consumed);
          if (r.answer) socket.write(r.answer);
          if (r.close) {
            socket.end();
            return;
          }
        }
      },
      error() {},
    },
  });
  return {
    port: server.port,
    received: () => Buffer.concat(chunks),
    sawTlsHello: () => first === 0x16,
    stop: () => server.stop(true),
  };
};

// ---------------------------------------------------------------- Kafka

export interface KafkaRequest {
  apiKey: number;
  apiVersion: number;
  body: Buffer;
}

const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const str = (s: string) => Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
const frame = (correlationId: number, payload: Buffer) =>
  Buffer.concat([int32(payload.length + 4), int32(correlationId), payload]);

/** ApiVersions, SaslHandshake (17) and SaslAuthenticate (36): enough for a kafkajs client to authenticate. */
const SUPPORTED: [number, number, number][] = [
  [18, 0, 2],
  [17, 0, 1],
  [36, 0, 1],
];

/**
 * A broker that answers ApiVersions and a SASL handshake offering `mechanisms`, records every request, and
 * hangs up on the first SaslAuthenticate (a client never gets further).
 */
export const fakeKafka = (opts: { pki?: Pki; mechanisms?: string[] } = {}) => {
  const requests: KafkaRequest[] = [];
  const recorder = listen(opts, (buf) => {
    if (buf.length < 4) return undefined;
    const size = buf.readInt32BE(0);
    if (buf.length < 4 + size) return undefined;
    const apiKey = buf.readInt16BE(4);
    const apiVersion = buf.readInt16BE(6);
    const correlationId = buf.readInt32BE(8);
    const clientIdLength = buf.readInt16BE(12);
    const body = buf.subarray(14 + Math.max(0, clientIdLength), 4 + size);
    requests.push({ apiKey, apiVersion, body: Buffer.from(body) });
    const consumed = 4 + size;
    if (apiKey === 18) {
      const list = Buffer.concat(
        SUPPORTED.map(([k, min, max]) => Buffer.concat([int16(k), int16(min), int16(max)])),
      );
      const payload = Buffer.concat([
        int16(0),
        int32(SUPPORTED.length),
        list,
        ...(apiVersion > 0 ? [int32(0)] : []),
      ]);
      return { consumed, answer: frame(correlationId, payload) };
    }
    if (apiKey === 17) {
      const mechanisms = opts.mechanisms ?? ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
      const payload = Buffer.concat([int16(0), int32(mechanisms.length), ...mechanisms.map(str)]);
      return { consumed, answer: frame(correlationId, payload) };
    }
    return { consumed, close: true };
  });
  return {
    ...recorder,
    requests,
    /** The mechanism of the SaslHandshake request, if one came. */
    mechanism: (): string | undefined => {
      const r = requests.find((x) => x.apiKey === 17);
      return r ? r.body.subarray(2, 2 + r.body.readInt16BE(0)).toString() : undefined;
    },
    /** The first SaslAuthenticate payload (PLAIN credentials or SCRAM client-first message). */
    authBytes: (): Buffer | undefined => {
      const r = requests.find((x) => x.apiKey === 36);
      return r ? r.body.subarray(4, 4 + r.body.readInt32BE(0)) : undefined;
    },
  };
};

// ---------------------------------------------------------------- Redis

/** A Redis that answers +OK to every command (PING with +PONG) and records the commands. */
export const fakeRedis = (opts: { pki?: Pki } = {}) => {
  const commands: string[][] = [];
  const recorder = listen(opts, (buf) => {
    // RESP arrays of bulk strings: *N\r\n$len\r\narg\r\n...
    if (buf.length === 0 || buf[0] !== 0x2a) return undefined;
    let at = buf.indexOf("\r\n");
    if (at < 0) return undefined;
    const n = Number(buf.subarray(1, at).toString());
    let pos = at + 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      at = buf.indexOf("\r\n", pos);
      if (at < 0) return undefined;
      const len = Number(buf.subarray(pos + 1, at).toString());
      if (buf.length < at + 2 + len + 2) return undefined;
      args.push(buf.subarray(at + 2, at + 2 + len).toString());
      pos = at + 2 + len + 2;
    }
    commands.push(args);
    const answer = (args[0] ?? "").toUpperCase() === "PING" ? "+PONG\r\n" : "+OK\r\n";
    return { consumed: pos, answer: Buffer.from(answer) };
  });
  return { ...recorder, commands };
};
