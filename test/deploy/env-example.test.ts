// config/logproc.env.example and docs/configuration.md are what scripts/gen-env-example.ts generates from src/config/variables.ts.

import { describe, expect, test } from "bun:test";
import {
  CONFIG_DOC_PATH,
  ENV_EXAMPLE_PATH,
  renderConfigDoc,
  renderEnvExample,
} from "../../scripts/gen-env-example.ts";
import { loadConfig } from "../../src/config/load.ts";
import { VARIABLES } from "../../src/config/variables.ts";

describe("config/logproc.env.example", () => {
  test("is exactly what the generator writes (run: bun scripts/gen-env-example.ts)", async () => {
    expect(await Bun.file(ENV_EXAMPLE_PATH).text()).toBe(renderEnvExample());
  });

  test("shows every variable with its default and its help", () => {
    const text = renderEnvExample();
    for (const v of VARIABLES) {
      expect(text).toContain(`# ${v.name}=${v.default ?? ""}\n`);
      expect(text).toContain(`# ${v.help}\n`);
    }
  });

  test("its defaults, uncommented, are a valid configuration equal to the empty one", () => {
    const env = Object.fromEntries(
      VARIABLES.filter((v) => v.default !== undefined).map((v) => [v.name, v.default]),
    );
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });
});

describe("docs/configuration.md", () => {
  test("is exactly what the generator writes, a row for every variable", async () => {
    const text = await Bun.file(CONFIG_DOC_PATH).text();
    expect(text).toBe(renderConfigDoc());
    for (const v of VARIABLES) expect(text).toContain(`| \`${v.name}\` |`);
  });
});
