// The demo's chart: grouped bars of each contributor's Shapley value per round, as a self-contained SVG.

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** `phi[round][contributor]`; one group of bars per contributor, one bar per round; negative values go down. */
export function contributionChartSvg(phi: readonly (readonly number[])[], labels: readonly string[]): string {
  const width = 900;
  const height = 420;
  const margin = { left: 70, right: 20, top: 40, bottom: 90 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const values = phi.flat();
  const top = Math.max(...values, 0);
  const bottom = Math.min(...values, 0);
  const span = top - bottom || 1;
  const y = (v: number) => margin.top + ((top - v) / span) * plotHeight;
  const group = plotWidth / labels.length;
  const bar = (group * 0.8) / Math.max(phi.length, 1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">Shapley value φ of each contributor, per round</text>`,
  ];
  for (let t = 0; t <= 4; t++) {
    const v = bottom + (span * t) / 4;
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${margin.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toExponential(1)}</text>`,
    );
  }
  parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/>`);
  labels.forEach((label, c) => {
    const x0 = margin.left + c * group + group * 0.1;
    phi.forEach((round, r) => {
      const v = round[c] ?? 0;
      const yTop = Math.min(y(v), y(0));
      const h = Math.abs(y(v) - y(0));
      parts.push(
        `<rect x="${(x0 + r * bar).toFixed(1)}" y="${yTop.toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${Math.max(h, 0.5).toFixed(1)}" fill="${COLORS[r % COLORS.length]}"><title>${escapeXml(label)}, round ${r + 1}: ${v}</title></rect>`,
      );
    });
    const cx = margin.left + c * group + group / 2;
    parts.push(
      `<text x="${cx}" y="${height - margin.bottom + 18}" text-anchor="end" transform="rotate(-30 ${cx} ${height - margin.bottom + 18})">${escapeXml(label)}</text>`,
    );
  });
  phi.forEach((_, r) => {
    const x = margin.left + r * 90;
    parts.push(
      `<rect x="${x}" y="${height - 22}" width="12" height="12" fill="${COLORS[r % COLORS.length]}"/>`,
      `<text x="${x + 16}" y="${height - 12}">round ${r + 1}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
