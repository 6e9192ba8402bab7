// Syslog against the compiled binary on Kafka and PostgreSQL: util-linux logger (RFC 5424 and 3164, TCP with
// octet counting or newlines, UDP) and rsyslog forwarding; every message found through the gateway.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackages } from "../../scripts/debian-packages.ts";
import { waitUntil } from "../helpers/faults-process.ts";
import { freePort } from "../helpers/proc.ts";
import { type ProtocolStack, startProtocolStack } from "../helpers/protocols-stack.ts";
import { uniqueName } from "../helpers/services.ts";

setDefaultTimeout(180_000);

const MAX_LINE = 2048;
let stack: ProtocolStack;
beforeAll(async () => {
  ensureDebianPackages(["bsdutils", "rsyslog"], ["logger", "rsyslogd"]);
  stack = await startProtocolStack("proto_syslog", {
    SYSLOG_MAX_LINE_BYTES: String(MAX_LINE),
    SYSLOG_MAX_CONNECTIONS: "8",
    SYSLOG_IDLE_TIMEOUT_S: "2",
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** util-linux logger sending to the syslog port; fails the test when logger does. */
const logger = (args: string[], message: string | undefined, port = stack.syslogPort): void => {
  const cmd = ["logger", "--server", "127.0.0.1", "--port", String(port), ...args];
  const done = Bun.spawnSync(message === undefined ? cmd : [...cmd, message], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (done.exitCode !== 0) throw new Error(`logger ${args.join(" ")} failed: ${done.stderr.toString()}`);
};

/** Raw bytes over one TCP connection, closed once written. */
const sendTcp = async (text: string): Promise<void> => {
  const socket = await Bun.connect({ hostname: "127.0.0.1", port: stack.syslogPort, socket: { data() {} } });
  socket.write(text);
  socket.end();
};

const metric = async (line: string): Promise<number> => {
  const text = await (await fetch(`${stack.producerUrl}/metrics`)).text();
  const found = text.split("\n").find((l) => l.startsWith(line));
  return found ? Number(found.split(" ").at(-1)) : 0;
};

describe("syslog from util-linux logger", () => {
  test("RFC 5424 over TCP with octet counting: severity, app-name, structured data", async () => {
    const app = uniqueName("sl5424");
    logger(
      [
        "--tcp",
        "--octet-count",
        "--rfc5424",
        "-t",
        app,
        "-p",
        "local0.err",
        "--msgid",
        "ORDER",
        "--sd-id",
        "shop@32473",
        "--sd-param",
        'user="alice"',
      ],
      "payment declined",
    );
    const [event] = await stack.eventsOf(app, 1);
    expect(event).toMatchObject({ level: "ERROR", source: app, message: "payment declined" });
    expect(event?.metadata).toMatchObject({
      facility: "local0",
      severity: 3,
      appname: app,
      msgid: "ORDER",
      structured_data: { "shop@32473": { user: "alice" } },
    });
    expect(typeof event?.metadata?.hostname).toBe("string");
  });

  test("RFC 3164 over TCP (newline framed) and both forms over UDP", async () => {
    const [a, b, c] = [uniqueName("sl3164"), uniqueName("sludp5424"), uniqueName("sludp3164")];
    logger(["--tcp", "--rfc3164", "-t", a, "-p", "user.warning"], "disk at 91%");
    logger(["--udp", "--rfc5424", "-t", b, "-p", "daemon.debug"], "cache warmed");
    logger(["--udp", "--rfc3164", "-t", c, "-p", "auth.crit"], "root login refused");
    expect((await stack.eventsOf(a, 1))[0]).toMatchObject({ level: "WARN", message: "disk at 91%" });
    expect((await stack.eventsOf(b, 1))[0]).toMatchObject({ level: "DEBUG", message: "cache warmed" });
    expect((await stack.eventsOf(c, 1))[0]).toMatchObject({ level: "FATAL", message: "root login refused" });
  });

  test("a file of 400 lines over one TCP connection arrives whole", async () => {
    const app = uniqueName("slfile");
    const file = join(mkdtempSync(join(tmpdir(), "syslog-")), "lines.txt");
    writeFileSync(file, Array.from({ length: 400 }, (_, i) => `line ${i}`).join("\n"));
    logger(["--tcp", "--octet-count", "--rfc5424", "-t", app, "-f", file], undefined);
    const events = await stack.eventsOf(app, 400);
    expect(new Set(events.map((e) => e.message)).size).toBe(400);
  });
});

describe("syslog input that is not syslog", () => {
  test("a malformed line is stored whole and counted; an over-long one is cut, the next one intact", async () => {
    const before = await metric('syslog_messages_total{format="malformed"}');
    const marker = uniqueName("raw");
    const long = `<14>1 - - ${marker}-long - - - ${"x".repeat(MAX_LINE * 3)}`;
    await sendTcp(`this is not syslog ${marker}\n${long}\n<14>1 - - ${marker}-after - - - still here\n`);
    await waitUntil(
      "the malformed line counted",
      async () => (await metric('syslog_messages_total{format="malformed"}')) > before,
    );
    const raw = await stack.eventsOf("syslog", 1);
    expect(raw.find((e) => e.message === `this is not syslog ${marker}`)?.metadata).toEqual({
      malformed: true,
    });
    const [cut] = await stack.eventsOf(`${marker}-long`, 1);
    expect((cut?.message.length ?? 0) < MAX_LINE).toBe(true);
    expect((await stack.eventsOf(`${marker}-after`, 1))[0]?.message).toBe("still here");
  });

  test("connections past SYSLOG_MAX_CONNECTIONS are refused and idle ones closed", async () => {
    const refusedBefore = await metric("syslog_connections_refused_total");
    const closed: boolean[] = [];
    const sockets = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        Bun.connect({
          hostname: "127.0.0.1",
          port: stack.syslogPort,
          socket: {
            data() {},
            close() {
              closed[i] = true;
            },
          },
        }),
      ),
    );
    await waitUntil(
      "two connections refused",
      async () => (await metric("syslog_connections_refused_total")) >= refusedBefore + 2,
    );
    // Silent connections are closed by the idle timeout (2 s here), so none is left open.
    await waitUntil("every idle connection closed", () => closed.filter(Boolean).length === 10, 30_000);
    for (const s of sockets) s.end();
  });
});

describe("syslog forwarded by rsyslog", () => {
  test("rsyslog's omfwd (TCP, octet-counted RFC 5424) delivers what it received", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rsyslog-"));
    const inPort = freePort();
    const conf = join(dir, "rsyslog.conf");
    writeFileSync(
      conf,
      [
        `global(workDirectory="${dir}")`,
        'module(load="imtcp")',
        `input(type="imtcp" port="${inPort}" address="127.0.0.1")`,
        `action(type="omfwd" target="127.0.0.1" port="${stack.syslogPort}" protocol="tcp"`,
        '  TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")',
      ].join("\n"),
    );
    const rsyslogd = Bun.spawn(["rsyslogd", "-n", "-f", conf, "-i", join(dir, "pid")], {
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const app = uniqueName("slrsys");
      await waitUntil("rsyslog listening", async () => {
        try {
          (await Bun.connect({ hostname: "127.0.0.1", port: inPort, socket: { data() {} } })).end();
          return true;
        } catch {
          return false;
        }
      });
      for (let i = 0; i < 5; i++)
        logger(["--tcp", "--rfc3164", "-t", app, "-p", "mail.notice"], `relayed ${i}`, inPort);
      const events = await stack.eventsOf(app, 5);
      expect(events.map((e) => e.message).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `relayed ${i}`));
      expect(events[0]).toMatchObject({ level: "INFO", metadata: { facility: "mail", severity: 5 } });
    } finally {
      rsyslogd.kill("SIGTERM");
      await rsyslogd.exited;
    }
  });
});
