// A separate process that polls a URL every ~20 ms until its stdin closes, then prints each poll as JSON.
// Apart from the load generator, so that the sender's own work never shows as the server's latency.

const url = process.argv[2];
if (!url) throw new Error("usage: bun bench/lib/health-poller.ts <url>");
const POLL_MS = 20;
let stopped = false;
const polls: { ms: number; answeredAt: number; status: number }[] = [];

const poll = async (): Promise<void> => {
  while (!stopped) {
    const at = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    polls.push({ ms: performance.now() - at, answeredAt: Date.now(), status: res.status });
    await Bun.sleep(POLL_MS);
  }
};

const running = poll();
process.stdout.write("ready\n");
for await (const _ of Bun.stdin.stream()) {
  // Any input or its end stops the polls.
  break;
}
stopped = true;
await running;
process.stdout.write(`${JSON.stringify(polls)}\n`);
