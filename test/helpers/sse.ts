// A Server-Sent Events client for tests: opens a stream with fetch and collects its events until closed.

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** One frame (the lines before a blank line) as the EventSource algorithm reads it; undefined without data. */
export const parseFrame = (frame: string): SseEvent | undefined => {
  const e: SseEvent = { event: "message", id: undefined, data: "" };
  const data: string[] = [];
  let hasData = false;
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue;
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    if (field === "data") {
      data.push(value);
      hasData = true;
    } else if (field === "id") e.id = value;
    else if (field === "event") e.event = value;
  }
  if (!hasData) return undefined;
  e.data = data.join("\n");
  return e;
};

/** Opens the stream; `received` fills as frames arrive, `close()` aborts it and waits for the reader. */
export const openSse = async (url: string, headers: Record<string, string> = {}) => {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const received: SseEvent[] = [];
  const reader = res.body?.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    if (!reader) return;
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let at = buffer.indexOf("\n\n"); at >= 0; at = buffer.indexOf("\n\n")) {
          const e = parseFrame(buffer.slice(0, at));
          buffer = buffer.slice(at + 2);
          if (e) received.push(e);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    res,
    received,
    messages: () => received.filter((e) => e.event === "message"),
    close: async () => {
      abort.abort();
      await pump;
    },
  };
};
