#!/usr/bin/env bun
// Writes config/logproc.env.example and docs/configuration.md from src/config/variables.ts, so neither
// drifts from the code.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { VARIABLES, type Variable } from "../src/config/variables.ts";

export const ENV_EXAMPLE_PATH = join(import.meta.dir, "..", "config", "logproc.env.example");
export const CONFIG_DOC_PATH = join(import.meta.dir, "..", "docs", "configuration.md");

const HEADER = [
  "# logproc environment: every variable it reads, with its default and meaning.",
  "# Generated from src/config/variables.ts by scripts/gen-env-example.ts: change that file, then run",
  "#   node_modules/.bin/bun scripts/gen-env-example.ts",
  "# Every line is commented out: an unset variable takes the default shown. Uncomment what you change.",
  "# Secrets (passwords, API keys) belong in your secret store, not in a committed copy of this file.",
];

const entry = (v: Variable): string[] => [`# ${v.help}`, `# ${v.name}=${v.default ?? ""}`];

export const renderEnvExample = (variables: readonly Variable[] = VARIABLES): string =>
  `${[HEADER.join("\n"), ...variables.map((v) => entry(v).join("\n"))].join("\n\n")}\n`;

const cell = (text: string): string => text.replaceAll("|", "\\|");

/** The manual's configuration reference: one row per variable. */
export const renderConfigDoc = (variables: readonly Variable[] = VARIABLES): string =>
  `${[
    "# Configuration",
    "",
    "Every environment variable logproc reads, with its default and meaning. Generated from",
    "`src/config/variables.ts` by `scripts/gen-env-example.ts`, like `config/logproc.env.example`;",
    "`dist/logproc --help` prints the same list. An unset variable takes its default.",
    "",
    "| variable | default | meaning |",
    "|---|---|---|",
    ...variables.map(
      (v) => `| \`${v.name}\` | ${v.default ? `\`${cell(v.default)}\`` : ""} | ${cell(v.help)} |`,
    ),
  ].join("\n")}\n`;

if (import.meta.main) {
  writeFileSync(ENV_EXAMPLE_PATH, renderEnvExample());
  writeFileSync(CONFIG_DOC_PATH, renderConfigDoc());
  process.stdout.write(`wrote ${ENV_EXAMPLE_PATH} and ${CONFIG_DOC_PATH} (${VARIABLES.length} variables)\n`);
}
