// Syslog lines (RFC 5424 and RFC 3164) read into native events; a line of neither form is kept whole.

import { type Doc, levelFromSeverity, sourceName, storableCut } from "./fields.ts";

export type SyslogFormat = "rfc5424" | "rfc3164" | "malformed";

export interface SyslogLimits {
  maxMessageBytes: number;
  maxSourceLength: number;
}

const FACILITIES = [
  "kern",
  "user",
  "mail",
  "daemon",
  "auth",
  "syslog",
  "lpr",
  "news",
  "uucp",
  "cron",
  "authpriv",
  "ftp",
  "ntp",
  "security",
  "console",
  "solaris-cron",
  "local0",
  "local1",
  "local2",
  "local3",
  "local4",
  "local5",
  "local6",
  "local7",
] as const;

const PRI = /^<(\d{1,3})>/;
const RFC5424 = /^(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) ?(.*)$/s;
const RFC3164 =
  /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (?:(\S+) )?([^\s:[\]]+)?(?:\[([^\]]*)\])?:? ?(.*)$/s;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const nil = (v: string | undefined): string | undefined => (v === undefined || v === "-" ? undefined : v);

/** `[id k="v" …][id2 …]` → {id: {k: v}}, and what follows it; undefined when the text is not structured data. */
export const parseStructuredData = (text: string): { sd: Doc; rest: string } | undefined => {
  if (text.startsWith("-")) return { sd: {}, rest: text.slice(1) };
  const sd: Doc = Object.create(null);
  let i = 0;
  while (text[i] === "[") {
    const idEnd = text.slice(i + 1).search(/[ \]]/);
    if (idEnd <= 0) return undefined;
    const id = text.slice(i + 1, i + 1 + idEnd);
    const params: Doc = Object.create(null);
    i += 1 + idEnd;
    for (;;) {
      if (text[i] === "]") break;
      const m = /^ ([^= \]"]+)="/.exec(text.slice(i, i + 300));
      if (!m?.[1]) return undefined;
      i += m[0].length;
      let value = "";
      for (; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === "\\" && (text[i + 1] === '"' || text[i + 1] === "\\" || text[i + 1] === "]")) i++;
        value += text[i];
      }
      if (i >= text.length) return undefined;
      i++;
      params[m[1]] = value;
    }
    i++;
    sd[id] = { ...params };
  }
  if (i === 0) return undefined;
  return { sd: { ...sd }, rest: text.slice(i) };
};

/** RFC 3164 carries no year or zone: the latest such instant not more than a day ahead, in the server's zone. */
const bsdTime = (
  mon: string,
  day: string,
  h: string,
  m: string,
  s: string,
  now: number,
): number | undefined => {
  const month = MONTHS.indexOf(mon);
  if (month < 0) return undefined;
  const year = new Date(now).getFullYear();
  for (const y of [year + 1, year, year - 1]) {
    const t = new Date(y, month, Number(day), Number(h), Number(m), Number(s)).getTime();
    if (t <= now + 86_400_000) return t;
  }
  return undefined;
};

const base = (pri: number) => ({
  level: levelFromSeverity(pri & 7),
  facility: FACILITIES[pri >> 3] ?? String(pri >> 3),
});

/**
 * One syslog message as a native event with its format. Severity gives the level; APP-NAME (or the tag),
 * else the hostname, the source; hostname, facility, severity, PROCID, MSGID and structured data the metadata.
 */
export const parseSyslog = (
  line: string,
  limits: SyslogLimits,
  now = Date.now(),
): { format: SyslogFormat; event: Doc } => {
  const text = line.replace(/[\r\n\0]+$/, "");
  const pri = PRI.exec(text);
  const value = pri ? Number(pri[1]) : Number.NaN;
  if (pri && value <= 191) {
    const after = text.slice(pri[0].length);
    const v5424 = RFC5424.exec(after);
    if (v5424 && v5424[1] === "1") {
      const sd = parseStructuredData(v5424[7] ?? "");
      if (sd) {
        const ts = nil(v5424[2]);
        const ms = ts === undefined ? undefined : Date.parse(ts);
        const host = nil(v5424[3]);
        const app = nil(v5424[4]);
        // rsyslog's %msg% keeps the space after a BSD tag's colon: leading blanks are never the message.
        const msg = sd.rest
          .replace(/^ /, "")
          .replace(/^\uFEFF/, "")
          .trimStart();
        const { level, facility } = base(value);
        const metadata: Doc = { facility, severity: value & 7 };
        if (host) metadata.hostname = host;
        if (app) metadata.appname = app;
        if (nil(v5424[5])) metadata.procid = v5424[5];
        if (nil(v5424[6])) metadata.msgid = v5424[6];
        if (Object.keys(sd.sd).length) metadata.structured_data = sd.sd;
        return {
          format: "rfc5424",
          event: event(level, msg || text, app ?? host, metadata, ms, limits),
        };
      }
    }
    const v3164 = RFC3164.exec(after);
    if (v3164) {
      const [, mon, day, h, m, s, host, tag, pid, msg] = v3164;
      const ms = bsdTime(mon ?? "", day ?? "", h ?? "", m ?? "", s ?? "", now);
      if (ms !== undefined) {
        const { level, facility } = base(value);
        const metadata: Doc = { facility, severity: value & 7 };
        if (host) metadata.hostname = host;
        if (tag) metadata.appname = tag;
        if (pid) metadata.procid = pid;
        return { format: "rfc3164", event: event(level, msg || text, tag ?? host, metadata, ms, limits) };
      }
    }
  }
  return {
    format: "malformed",
    event: event(
      "INFO",
      text === "" ? "(empty syslog message)" : text,
      undefined,
      { malformed: true },
      undefined,
      limits,
    ),
  };
};

const event = (
  level: string,
  message: string,
  source: string | undefined,
  metadata: Doc,
  timestamp: number | undefined,
  limits: SyslogLimits,
): Doc => ({
  level,
  message: storableCut(message, limits.maxMessageBytes),
  source: sourceName(source, "syslog", limits.maxSourceLength),
  ...(timestamp !== undefined && Number.isFinite(timestamp) && timestamp >= 0 ? { timestamp } : {}),
  metadata,
});
