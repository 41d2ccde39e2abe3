// A small SVG line chart, no dependencies: latency over time, one panel per scenario.

export interface Panel {
  title: string;
  /** Seconds since the start of the load. */
  series: { label: string; color: string; points: { t: number; ms: number }[] }[];
  /** Vertical marks: maintenance actions; `half` draws it over the top or bottom half only (two kinds at one instant). */
  marks: { t: number; color: string; dashed?: boolean; half?: 'top' | 'bottom' }[];
  /** Horizontal reference lines. */
  rules: { ms: number; label: string; color: string }[];
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function latencyChart(
  title: string,
  panels: Panel[],
  opts: { seconds: number; legend: { label: string; color: string; dashed?: boolean }[] },
): string {
  const W = 900;
  const panelH = 200;
  const left = 64;
  const right = 16;
  // Legend entries, wrapped onto as many lines as the width needs.
  const legendLines: { x: number; line: number; l: { label: string; color: string; dashed?: boolean } }[] = [];
  {
    let lx = left;
    let line = 0;
    for (const l of opts.legend) {
      const w = 30 + l.label.length * 6.2;
      if (lx + w > W - right && lx > left) {
        lx = left;
        line++;
      }
      legendLines.push({ x: lx, line, l });
      lx += w;
    }
  }
  const top = 48 + 16 * Math.max(0, ...legendLines.map((e) => e.line));
  const gap = 44;
  const H = top + panels.length * (panelH + gap) + 10;
  const all = panels.flatMap((p) => [...p.series.flatMap((s) => s.points.map((x) => x.ms)), ...p.rules.map((r) => r.ms)]);
  const lo = 0.1;
  const hi = Math.max(10, ...all) * 1.2;
  const y = (ms: number, y0: number) =>
    y0 + panelH - ((Math.log10(Math.max(lo, ms)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * panelH;
  const x = (t: number) => left + (Math.max(0, Math.min(opts.seconds, t)) / opts.seconds) * (W - left - right);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (const { x: lx, line, l } of legendLines) {
    const ly = 33 + line * 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${l.color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    out.push(`<text x="${lx + 22}" y="${ly + 4}">${esc(l.label)}</text>`);
  }
  panels.forEach((p, i) => {
    const y0 = top + i * (panelH + gap) + 16;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${W - left - right}" height="${panelH}" fill="none" stroke="#999"/>`);
    for (let d = Math.ceil(Math.log10(lo)); d <= Math.floor(Math.log10(hi)); d++) {
      const v = 10 ** d;
      const yy = y(v, y0);
      out.push(`<line x1="${left}" y1="${yy.toFixed(1)}" x2="${W - right}" y2="${yy.toFixed(1)}" stroke="#eee"/>`);
      out.push(`<text x="${left - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end">${v >= 1 ? v : v.toFixed(1)} ms</text>`);
    }
    for (let t = 0; t <= opts.seconds; t += opts.seconds > 20 ? 5 : 1) {
      out.push(`<text x="${x(t).toFixed(1)}" y="${y0 + panelH + 14}" text-anchor="middle">${t} s</text>`);
    }
    for (const m of p.marks) {
      const [a, b] = m.half === 'top' ? [y0, y0 + panelH / 2] : m.half === 'bottom' ? [y0 + panelH / 2, y0 + panelH] : [y0, y0 + panelH];
      out.push(
        `<line x1="${x(m.t).toFixed(1)}" y1="${a}" x2="${x(m.t).toFixed(1)}" y2="${b}" stroke="${m.color}" stroke-width="1.2"${m.dashed ? ' stroke-dasharray="3 3"' : ''} opacity="0.85"/>`,
      );
    }
    for (const r of p.rules) {
      const yy = y(r.ms, y0);
      out.push(
        `<line x1="${left}" y1="${yy.toFixed(1)}" x2="${W - right}" y2="${yy.toFixed(1)}" stroke="${r.color}" stroke-dasharray="6 4"/>`,
      );
      out.push(`<text x="${W - right - 4}" y="${(yy - 4).toFixed(1)}" text-anchor="end" fill="${r.color}">${esc(r.label)}</text>`);
    }
    for (const s of p.series) {
      if (s.points.length === 0) continue;
      const d = s.points.map((pt, k) => `${k ? 'L' : 'M'}${x(pt.t).toFixed(1)} ${y(pt.ms, y0).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.2"/>`);
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
