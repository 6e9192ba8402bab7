// What a scenario receives: its size (tiny/scale), rounds, output directory and a results builder.

import { machine } from "./machine.ts";
import type { Comparison, Figure, ScenarioResult } from "./results.ts";

export interface BenchOptions {
  tiny: boolean;
  /** query: fraction of the full 10M-event data set. */
  scale?: number;
  /** Override of the scenario's rounds. */
  rounds?: number;
  /** soak: minutes of each mode's run. */
  minutes?: number;
  /** sink: consumer processes of one group that write at once (compared with one, in the same run). */
  consumers?: number;
  outDir: string;
  command: string;
}

export type Scenario = (opts: BenchOptions) => Promise<ScenarioResult>;

export class ResultBuilder {
  readonly comparisons: Comparison[] = [];
  readonly figures: Figure[] = [];
  readonly peakRss: Record<string, number> = {};
  readonly notes: string[] = [];
  readonly params: Record<string, number | string | boolean> = {};
  private readonly started = Date.now();
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly scenario: string,
    private readonly opts: BenchOptions,
  ) {}

  rss(name: string, bytes: number): void {
    if (!Number.isFinite(bytes)) return;
    this.peakRss[name] = Math.max(this.peakRss[name] ?? 0, bytes);
  }

  build(scale?: number): ScenarioResult {
    return {
      scenario: this.scenario,
      tiny: this.opts.tiny,
      ...(scale !== undefined ? { scale } : {}),
      startedAt: this.startedAt,
      durationS: Math.round((Date.now() - this.started) / 100) / 10,
      machine: machine(),
      command: this.opts.command,
      params: this.params,
      comparisons: this.comparisons,
      figures: this.figures,
      peakRss: this.peakRss,
      notes: this.notes,
    };
  }
}
