// Raw TCP exchanges (Bun.connect) for what fetch() cannot send, and the judging of their answers.

import { expand, type RawCase, rawBytes } from "./corpus.ts";
import { type Answer, fromApp, judge, type Verdict } from "./oracle.ts";
import { type Endpoints, merge, pool } from "./run.ts";

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Splits a byte stream into HTTP/1.1 responses (Content-Length or chunked bodies; 1xx skipped). */
export const parseResponses = (bytes: Buffer): { responses: RawResponse[]; rest: number } => {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = bytes.indexOf("\r\n\r\n", at);
    if (end < 0) break;
    const lines = bytes.subarray(at, end).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? Number.NaN);
    if (!Number.isFinite(status)) break;
    const headers = new Headers();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    let bodyStart = end + 4;
    let body: Buffer = Buffer.alloc(0);
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue;
    }
    if ((headers.get("transfer-encoding") ?? "").includes("chunked")) {
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf("\r\n", bodyStart);
        if (lineEnd < 0) break;
        const size = Number.parseInt(bytes.subarray(bodyStart, lineEnd).toString("latin1"), 16);
        bodyStart = lineEnd + 2 + size + 2;
        if (!(size > 0)) break;
        chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
      }
      body = Buffer.concat(chunks);
    } else {
      const length = Number(headers.get("content-length") ?? 0);
      body = bytes.subarray(bodyStart, bodyStart + length);
      bodyStart += length;
    }
    responses.push({ status, headers, text: body.toString("utf8") });
    at = bodyStart;
  }
  return { responses, rest: bytes.length - at };
};

/** Writes the bytes, optionally half-closes, and collects what comes back until close or `waitMs`. */
export const exchange = async (
  port: number,
  bytes: Uint8Array,
  halfClose: boolean,
  waitMs: number,
): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  let closed = false;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, data) {
        chunks.push(Buffer.from(data));
      },
      close() {
        closed = true;
      },
      error() {
        closed = true;
      },
    },
  });
  let offset = 0;
  while (offset < bytes.length && !closed) {
    const wrote = socket.write(bytes.subarray(offset));
    offset += wrote;
    if (wrote === 0) await Bun.sleep(5);
  }
  socket.flush();
  if (halfClose) socket.shutdown(true);
  const until = Date.now() + waitMs;
  while (!closed && Date.now() < until) await Bun.sleep(10);
  socket.end();
  return Buffer.concat(chunks);
};

export const runRawCase = async (e: Endpoints, c: RawCase, run: string): Promise<Verdict> => {
  const origin = `[raw: ${c.name}]`;
  const v: Verdict = { violations: [], expected: [] };
  const received = await exchange(e.ports[c.port], rawBytes(c, run), c.halfClose ?? false, c.waitMs ?? 5000);
  const { responses } = parseResponses(received);
  const accepted = (c.accepted ?? []).map((b) => expand(b, run));
  let acks = 0;
  for (const r of responses) {
    const a: Answer = r;
    if (a.status >= 200 && a.status < 300 && fromApp(a)) {
      const payload = accepted[acks++];
      const sent = {
        origin,
        payload: payload === undefined ? undefined : new TextEncoder().encode(payload),
        contentType: "application/json",
      };
      const verdict = judge(sent, a);
      if (payload === undefined && verdict.expected.length)
        v.violations.push(`${origin}: accepted an event the case does not allow: ${a.text.slice(0, 200)}`);
      else {
        v.violations.push(...verdict.violations);
        v.expected.push(...verdict.expected);
      }
      continue;
    }
    v.violations.push(
      ...judge(
        { origin, payload: undefined, contentType: null },
        a,
        c.parserStatuses ? { parserStatuses: c.parserStatuses } : {},
      ).violations,
    );
  }
  // Events the case allows but no answer acknowledged may still be stored: they must then read back too.
  v.unanswered = accepted.slice(acks).flatMap((text) => {
    const input = JSON.parse(text) as Record<string, unknown>;
    return typeof input.id === "string" ? [{ id: input.id, input, origin: `${origin} (unanswered)` }] : [];
  });
  if (responses.length < (c.answers ?? 0)) {
    const shortfall = `${origin}: ${responses.length} of ${c.answers} answers came back`;
    if (c.knownIssue) v.notes = [`${shortfall} (known: ${c.knownIssue})`];
    else v.violations.push(shortfall);
  }
  return v;
};

export const runRawCases = async (e: Endpoints, cases: RawCase[], run: string): Promise<Verdict> => {
  const all: Verdict = { violations: [], expected: [] };
  await pool(cases, 4, async (c) => merge(all, await runRawCase(e, c, run)));
  return all;
};
