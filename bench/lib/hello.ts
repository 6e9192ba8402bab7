// The reference HTTP servers, bare Bun.serve (run as its own process: bun bench/lib/hello.ts PORT):
// GET / answers "ok"; PUT /body stores the request body, which GET /body then answers as JSON.

const port = Number(process.argv[2] ?? 0);
let body = "";
const json = { "content-type": "application/json; charset=UTF-8" };
Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: async (req) => {
    const path = new URL(req.url).pathname;
    if (path !== "/body") return new Response("ok");
    if (req.method === "PUT") {
      body = await req.text();
      return new Response(null, { status: 204 });
    }
    return new Response(body, { headers: json });
  },
});
