// Prometheus label syntax as Loki's protobuf push carries stream labels: {a="b", c="d \"quoted\""}.

import { DomainError } from "./errors.ts";

const NAME = /[A-Za-z_][A-Za-z0-9_.]*/y;
const SPACE = /[\s,]*/y;

const refuse = (text: string, problem: string): never => {
  const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  throw new DomainError("validation_failed", `stream labels ${JSON.stringify(shown)}: ${problem}`, {
    details: [{ field: "streams.labels", message: problem }],
  });
};

const ESCAPES: Record<string, string> = { "\\": "\\", '"': '"', n: "\n", t: "\t" };

/** The label pairs of `{name="value", ...}` in order; a 400 naming the problem for anything else. */
export const parseLabels = (text: string): [string, string][] => {
  const s = text.trim();
  if (!s.startsWith("{") || !s.endsWith("}")) return refuse(s, 'must be written {name="value", ...}');
  const out: [string, string][] = [];
  let i = 1;
  const end = s.length - 1;
  const skip = (): void => {
    SPACE.lastIndex = i;
    SPACE.exec(s);
    i = SPACE.lastIndex;
  };
  skip();
  while (i < end) {
    NAME.lastIndex = i;
    const name = NAME.exec(s)?.[0];
    if (!name) return refuse(s, `a label name is expected at character ${i}`);
    i += name.length;
    while (s[i] === " ") i++;
    if (s[i] !== "=" || s[i + 1] !== '"') return refuse(s, `label ${name} must be followed by ="value"`);
    i += 2;
    let value = "";
    for (;;) {
      if (i >= end) return refuse(s, `the value of ${name} is not closed`);
      const ch = s[i] ?? "";
      if (ch === '"') break;
      if (ch === "\\") {
        const escaped = ESCAPES[s[i + 1] ?? ""];
        if (escaped === undefined) return refuse(s, `the value of ${name} has an unknown escape`);
        value += escaped;
        i += 2;
      } else {
        value += ch;
        i++;
      }
    }
    i++;
    out.push([name, value]);
    const before = i;
    skip();
    if (i < end && (i === before || !s.slice(before, i).includes(",")))
      return refuse(s, `a comma is expected after label ${name}`);
  }
  return out;
};
