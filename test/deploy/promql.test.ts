// The PromQL selector finder the deploy tests rely on to read metric names out of queries.

import { describe, expect, test } from "bun:test";
import { selectors } from "./promql.ts";

describe("selectors", () => {
  test("finds metric names behind functions and aggregations, not the label lists", () => {
    expect(
      selectors("histogram_quantile(0.99, sum by (le, endpoint) (rate(x_seconds_bucket[$__rate_interval])))"),
    ).toEqual([{ name: "x_seconds_bucket", matchers: [] }]);
    expect(selectors("sum(rate(a_total[5m])) by (job) / on (job) group_left (role) b")).toEqual([
      { name: "a_total", matchers: [] },
      { name: "b", matchers: [] },
    ]);
  });

  test("reads label matchers with every operator, and skips strings, numbers and keywords", () => {
    expect(
      selectors('up{job=~"logproc-.+", instance!="x"} == 0 and c{s="5.." , t!~"a,b"} offset 1h > 1e3'),
    ).toEqual([
      {
        name: "up",
        matchers: [
          { label: "job", op: "=~", value: "logproc-.+" },
          { label: "instance", op: "!=", value: "x" },
        ],
      },
      {
        name: "c",
        matchers: [
          { label: "s", op: "=", value: "5.." },
          { label: "t", op: "!~", value: "a,b" },
        ],
      },
    ]);
  });

  test("handles subqueries and a selector named by __name__", () => {
    expect(selectors('deriv(sum(max by (p) (lag))[10m:1m]) > 0 or {__name__="d", k="v"}')).toEqual([
      { name: "lag", matchers: [] },
      { name: "d", matchers: [{ label: "k", op: "=", value: "v" }] },
    ]);
  });
});
