// Finds the metric selectors in a PromQL expression: names and label matchers, skipping functions,
// keywords, grouping label lists, ranges, strings and Grafana variables.

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface Selector {
  name: string;
  matchers: Matcher[];
}

const KEYWORDS = new Set(["and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"]);
const LABEL_LISTS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const AGGREGATIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
  "limitk",
  "limit_ratio",
]);
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;

const skipString = (expr: string, at: number): number => {
  const quote = expr[at];
  let i = at + 1;
  while (i < expr.length && expr[i] !== quote) i += expr[i] === "\\" ? 2 : 1;
  return i + 1;
};

const skipPast = (expr: string, at: number, close: string): number => {
  const end = expr.indexOf(close, at);
  if (end < 0) throw new Error(`unclosed "${expr[at]}" in: ${expr}`);
  return end + 1;
};

const parseMatchers = (expr: string, open: number): { matchers: Matcher[]; end: number } => {
  const matchers: Matcher[] = [];
  const re =
    /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*,?/y;
  let i = open + 1;
  for (;;) {
    while (/\s/.test(expr[i] ?? "")) i++;
    if (expr[i] === "}") return { matchers, end: i + 1 };
    re.lastIndex = i;
    const m = re.exec(expr);
    if (!m?.[1] || !m[2] || !m[3]) throw new Error(`bad label matcher at ${i} in: ${expr}`);
    matchers.push({ label: m[1], op: m[2] as Matcher["op"], value: m[3].slice(1, -1) });
    i = re.lastIndex;
  }
};

const nextNonSpace = (expr: string, at: number): number => {
  let i = at;
  while (/\s/.test(expr[i] ?? "")) i++;
  return i;
};

export const selectors = (expr: string): Selector[] => {
  const found: Selector[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] ?? "";
    if (c === '"' || c === "'" || c === "`") i = skipString(expr, i);
    else if (c === "[") i = skipPast(expr, i, "]");
    else if (c === "$") {
      IDENT.lastIndex = expr[i + 1] === "{" ? i + 2 : i + 1;
      i = IDENT.exec(expr) ? IDENT.lastIndex + (expr[i + 1] === "{" ? 1 : 0) : i + 1;
    } else if (c === "{") {
      const { matchers, end } = parseMatchers(expr, i);
      const name = matchers.find((m) => m.label === "__name__" && m.op === "=")?.value;
      if (!name) throw new Error(`a selector without a metric name in: ${expr}`);
      found.push({ name, matchers: matchers.filter((m) => m.label !== "__name__") });
      i = end;
    } else if (/[0-9.]/.test(c)) {
      while (/[0-9a-zA-Z.+]/.test(expr[i] ?? "") && !(expr[i] === "+" && !/[eE]/.test(expr[i - 1] ?? "")))
        i++;
    } else if (/[a-zA-Z_:]/.test(c)) {
      IDENT.lastIndex = i;
      const word = IDENT.exec(expr)?.[0] ?? c;
      i += word.length;
      const next = nextNonSpace(expr, i);
      if (LABEL_LISTS.has(word)) {
        if (expr[next] === "(") i = skipPast(expr, next, ")");
      } else if (KEYWORDS.has(word.toLowerCase()) || expr[next] === "(" || AGGREGATIONS.has(word)) {
        // a function, an aggregation (`sum by (x) (...)`) or an operator keyword
      } else if (expr[next] === "{") {
        const { matchers, end } = parseMatchers(expr, next);
        found.push({ name: word, matchers });
        i = end;
      } else found.push({ name: word, matchers: [] });
    } else i++;
  }
  return found;
};
