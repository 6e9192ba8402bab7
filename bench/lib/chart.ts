// A hand-written SVG bar chart: each comparison's ratio (ours vs its reference), its goal marked, 1.0 as the parity line.

import type { ScenarioResult } from "./results.ts";

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export const chartSvg = (results: ScenarioResult[]): string => {
  const rows = results.flatMap((r) =>
    r.comparisons.map((c) => ({
      label: `${r.scenario}: ${c.name}`,
      ratio: c.ratio,
      goal: c.goal,
      met: c.goalMet,
    })),
  );
  const labelW = 330;
  const barW = 420;
  const rowH = 26;
  const top = 44;
  const width = labelW + barW + 90;
  const height = top + rows.length * rowH + 36;
  const finite = rows.map((r) => (Number.isFinite(r.ratio) ? r.ratio : 0));
  // Log-ish cap: ratios beyond the scale are drawn at the edge with their value printed.
  const max = Math.max(1.5, Math.min(10, Math.max(...finite, ...rows.map((r) => r.goal ?? 0)) * 1.1));
  const x = (v: number) => labelW + (Math.min(v, max) / max) * barW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">logproc vs reference (ratio, &gt; 1 = ours ahead; | = goal)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const v = Number.isFinite(r.ratio) ? r.ratio : 0;
    const color = r.met === undefined ? "#6b8fc7" : r.met ? "#4caf50" : "#e57373";
    parts.push(
      `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(r.label)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${Math.max(1, x(v) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`,
      `<text x="${(x(v) + 4).toFixed(1)}" y="${y + 15}">${v >= 100 ? Math.round(v) : v.toFixed(2)}×</text>`,
    );
    if (r.goal !== undefined)
      parts.push(
        `<line x1="${x(r.goal).toFixed(1)}" x2="${x(r.goal).toFixed(1)}" y1="${y}" y2="${y + rowH - 2}" stroke="#000" stroke-width="2" stroke-dasharray="3,2"/>`,
      );
  });
  const bottom = top + rows.length * rowH;
  parts.push(
    `<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="${top - 6}" y2="${bottom}" stroke="#888" stroke-width="1"/>`,
    `<text x="${x(1).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" fill="#666">1.0 (parity)</text>`,
    `<text x="${labelW}" y="${bottom + 30}" fill="#666">bar colour: green = goal met, red = goal missed, blue = no goal; scale capped at ${max.toFixed(1)}×</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
};
