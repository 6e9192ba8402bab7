// A Server-Sent Events reader over fetch(): unlike EventSource it can send the API key and Last-Event-ID.

export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

const EOL = /\r\n|\r|\n/;

/** Reads an event stream until it ends (resolves) or its request is aborted (rejects with AbortError). */
export const readSse = async (
  body: ReadableStream<Uint8Array>,
  onMessage: (m: SseMessage) => void,
): Promise<void> => {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  const line = (text: string): void => {
    if (text === "") {
      if (data.length) onMessage({ event: event || "message", data: data.join("\n"), id });
      event = "";
      data = [];
      id = undefined;
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    const value = colon < 0 ? "" : text.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) id = value;
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (;;) {
      const m = EOL.exec(buffer);
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk to decide.
      if (!m || (m[0] === "\r" && m.index === buffer.length - 1)) break;
      line(buffer.slice(0, m.index));
      buffer = buffer.slice(m.index + m[0].length);
    }
  }
};
