// Every protocol the protocols benchmark measures against the native batch API: one entry per protocol.

import { elasticsearchBulk } from "./elasticsearch.ts";
import { SHIPPER_BENCHES } from "./shippers.ts";
import { splunkHec } from "./splunk.ts";
import { syslogTcp } from "./syslog.ts";
import type { ProtocolBench } from "./types.ts";

export const PROTOCOL_BENCHES: readonly ProtocolBench[] = [
  elasticsearchBulk,
  splunkHec,
  syslogTcp,
  ...SHIPPER_BENCHES,
];
