// A thousand SSE streams from one process: raw TCP sockets, since fetch queues requests past its own limit (256).

export interface RawTail {
  /** HTTP status of the answer (0 until its first line arrived). */
  status(): number;
  ready(): boolean;
  /** Event frames received (a frame split across two reads may be missed: a sanity count). */
  frames(): number;
  close(): void;
}

const FRAME = 'data: {"id"';

const count = (text: string, needle: string): number => {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
};

/** Opens GET `path` on the loopback port as an event stream with the given extra headers. */
export const openRawTail = async (
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawTail> => {
  let status = 0;
  let ready = false;
  let frames = 0;
  const decoder = new TextDecoder();
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        const text = decoder.decode(chunk);
        if (status === 0) status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? -1);
        if (!ready && text.includes("event: ready")) ready = true;
        frames += count(text, FRAME);
      },
      error() {},
      close() {},
    },
  });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`,
  );
  return {
    status: () => status,
    ready: () => ready,
    frames: () => frames,
    close: () => socket.end(),
  };
};
