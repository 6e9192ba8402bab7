// Network exposure rules: which roles run without API keys, the bind address when HOST is unset, and the
// settings that would promise protection no key can give.

import type { Role } from "./schema.ts";

/** Where the roles listen when HOST is unset and some role has no API key to check. */
export const LOOPBACK_HOST = "127.0.0.1";
/** Where they listen when HOST is unset and every role they run checks API keys. */
export const ANY_HOST = "0.0.0.0";

type ServingRole = Exclude<Role, "all">;

const rolesOf = (role: Role): ServingRole[] =>
  role === "all" ? ["producer", "consumer", "gateway"] : [role];

/**
 * The roles of this process that answer without an API key: the producer without INGEST_API_KEYS, the
 * gateway without QUERY_API_KEYS, the consumer (health and metrics only) when neither list is set, since
 * either list may read its metrics.
 */
export const openRoles = (
  role: Role,
  keys: { ingest: readonly string[]; query: readonly string[] },
): ServingRole[] =>
  rolesOf(role).filter((r) => {
    if (r === "producer") return keys.ingest.length === 0;
    if (r === "gateway") return keys.query.length === 0;
    return keys.ingest.length === 0 && keys.query.length === 0;
  });

/** HOST when set; else loopback while any role is open, so an unconfigured process is not on the network. */
export const bindHost = (explicit: string | undefined, open: readonly ServingRole[]): string =>
  explicit ?? (open.length > 0 ? LOOPBACK_HOST : ANY_HOST);

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost: addresses no other machine can reach. */
export const isLoopback = (host: string): boolean => {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
};

/** The key variable a role reads. */
const KEY_VARIABLE: Record<ServingRole, string> = {
  producer: "INGEST_API_KEYS",
  gateway: "QUERY_API_KEYS",
  consumer: "INGEST_API_KEYS or QUERY_API_KEYS",
};

/** What to set so that an open role checks keys, e.g. "INGEST_API_KEYS (producer)". */
export const keyAdvice = (open: readonly ServingRole[]): string =>
  open.map((r) => `${KEY_VARIABLE[r]} (${r})`).join(", ");

/**
 * METRICS_REQUIRE_KEY=true on a role with no key to check would leave its metrics open while the setting
 * says otherwise: a configuration error, not a silent no-op.
 */
export const metricsKeyProblem = (requireKey: boolean, open: readonly ServingRole[]): string | undefined =>
  requireKey && open.length > 0
    ? `METRICS_REQUIRE_KEY: true needs API keys to check, and ${open.join(", ")} would have none: set ${keyAdvice(open)}, or METRICS_REQUIRE_KEY=false`
    : undefined;
