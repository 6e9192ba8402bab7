// Sends requests at once to a running process while another process polls its health; samples its memory.

import { readFileSync } from "node:fs";
import { join } from "node:path";

/** A /proc/PID/status field in bytes (VmRSS, VmHWM); NaN once the process has gone. */
export const procBytes = (pid: number, field: "VmRSS" | "VmHWM"): number => {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
};

export interface Answer {
  name: string;
  status: number;
  ms: number;
  body: string;
}

export interface AttackOutcome {
  answers: Answer[];
  /** Latency of every health poll made while the requests were in flight, ms. */
  health: number[];
  /** Health polls that answered before the first request was answered. */
  healthBeforeFirstAnswer: number;
  rssBefore: number;
  /** Largest VmRSS sampled while the requests were in flight. */
  rssPeak: number;
}

export interface Shot {
  name: string;
  send: () => Promise<Response>;
}

const POLLER = join(import.meta.dir, "health-poller.ts");

interface Poll {
  ms: number;
  answeredAt: number;
  status: number;
}

/** Starts the poller process; resolves once it polls. stop() ends it and returns every poll. */
const startPoller = async (healthUrl: string) => {
  const proc = Bun.spawn([process.execPath, POLLER, healthUrl], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("ready\n")) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the health poller exited before polling");
    text += decoder.decode(value, { stream: true });
  }
  text = text.slice(text.indexOf("ready\n") + "ready\n".length);
  return {
    stop: async (): Promise<Poll[]> => {
      proc.stdin.end();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      await proc.exited;
      return JSON.parse(text) as Poll[];
    },
  };
};

const SAMPLE_MS = 20;

export const attack = async (pid: number, healthUrl: string, shots: Shot[]): Promise<AttackOutcome> => {
  const poller = await startPoller(healthUrl);
  const rssBefore = procBytes(pid, "VmRSS");
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    const rss = procBytes(pid, "VmRSS");
    if (rss > rssPeak) rssPeak = rss;
  }, SAMPLE_MS);
  let firstAnswerAt = Number.POSITIVE_INFINITY;
  const started = performance.now();
  const answers = await Promise.all(
    shots.map(async (shot): Promise<Answer> => {
      const res = await shot.send();
      const body = await res.text();
      const now = performance.now();
      firstAnswerAt = Math.min(firstAnswerAt, Date.now());
      return { name: shot.name, status: res.status, ms: now - started, body: body.slice(0, 300) };
    }),
  );
  const polls = await poller.stop();
  clearInterval(sampler);
  const end = procBytes(pid, "VmRSS");
  if (end > rssPeak) rssPeak = end;
  return {
    answers,
    health: polls.map((p) => p.ms),
    healthBeforeFirstAnswer: polls.filter((p) => p.answeredAt < firstAnswerAt).length,
    rssBefore,
    rssPeak,
  };
};
