// The reference HTTP server: bare Bun.serve answering "ok" (run as its own process: bun bench/lib/hello.ts PORT).

const port = Number(process.argv[2] ?? 0);
Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("ok") });
