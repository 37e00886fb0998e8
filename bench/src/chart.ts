/** A small horizontal-bar-chart writer (no dependency): one panel per metric, one bar per system. */

export interface Panel {
  title: string;
  bars: { label: string; value: number; ours: boolean }[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function barChart(title: string, panels: Panel[]): string {
  const width = 760;
  const labelW = 220;
  const barH = 18;
  const gap = 6;
  const out: string[] = [];
  let y = 40;
  out.push(`<text x="10" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  for (const panel of panels) {
    const max = Math.max(...panel.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1);
    out.push(
      `<text x="10" y="${y + 14}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`,
    );
    y += 22;
    for (const bar of panel.bars) {
      const w = Number.isFinite(bar.value)
        ? Math.max(1, ((width - labelW - 90) * bar.value) / max)
        : 0;
      const fill = bar.ours ? "#2f6fb5" : "#a0a0a0";
      out.push(
        `<text x="${labelW - 6}" y="${y + 13}" font-size="12" text-anchor="end">${esc(bar.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/>`,
        `<text x="${(labelW + w + 4).toFixed(1)}" y="${y + 13}" font-size="12">${Number.isFinite(bar.value) ? Math.round(bar.value).toLocaleString("en") : "n/a"}</text>`,
      );
      y += barH + gap;
    }
    y += 12;
  }
  // A title names the chart for screen readers (and satisfies biome's a11y lint).
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" viewBox="0 0 ${width} ${y}" role="img">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="white"/>
${out.join("\n")}
</svg>
`;
}
