// One progress bar per phase (cli-progress), on stderr; silent when stderr is not a terminal.

import cliProgress from "cli-progress";

export interface Phase {
  tick(n?: number): void;
  set(value: number): void;
  done(): void;
}

export const phase = (label: string, total: number, unit = "items"): Phase => {
  const tty = Boolean(process.stderr.isTTY);
  if (!tty) {
    process.stderr.write(`[bench] ${label} (${total} ${unit})\n`);
    return { tick() {}, set() {}, done() {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(34).slice(0, 34)} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted}`,
      hideCursor: true,
      stream: process.stderr,
      fps: 5,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    tick(n = 1) {
      value += n;
      bar.update(Math.min(value, total));
    },
    set(v) {
      value = v;
      bar.update(Math.min(v, total));
    },
    done() {
      bar.update(total);
      bar.stop();
    },
  };
};

export const note = (text: string): void => {
  process.stderr.write(`[bench] ${text}\n`);
};
