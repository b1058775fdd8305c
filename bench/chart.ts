/**
 * A dependency-free SVG chart of the benchmark across account sizes: API calls (left) and time (right),
 * log scale, one line per series.
 */

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  /** One value per size, in the order of `sizes`. */
  readonly values: readonly number[];
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
}

const WIDTH = 440;
const HEIGHT = 300;
const MARGIN = { left: 60, right: 16, top: 36, bottom: 96 };

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function fmt(value: number): string {
  if (value >= 1000) return `${Math.round(value / 100) / 10}k`;
  return String(Math.round(value * 10) / 10);
}

function panel(p: Panel, sizes: readonly string[], x0: number): string {
  const values = p.series.flatMap((s) => s.values).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (i: number): number =>
    x0 + MARGIN.left + (sizes.length === 1 ? plotW / 2 : (i * plotW) / (sizes.length - 1));
  const y = (v: number): number =>
    MARGIN.top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(hi - lo, 1)) * plotH;
  const parts: string[] = [];
  parts.push(
    `<text x="${x0 + WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">${escape(p.title)}</text>`,
  );
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e);
    parts.push(
      `<line x1="${x0 + MARGIN.left}" x2="${x0 + WIDTH - MARGIN.right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`,
      `<text x="${x0 + MARGIN.left - 6}" y="${yy + 4}" text-anchor="end">${fmt(10 ** e)}</text>`,
    );
  }
  sizes.forEach((size, i) => {
    parts.push(
      `<text x="${x(i)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${escape(size)}</text>`,
    );
  });
  parts.push(
    `<text x="${x0 + 14}" y="${MARGIN.top + plotH / 2}" transform="rotate(-90 ${x0 + 14} ${MARGIN.top + plotH / 2})" text-anchor="middle">${escape(p.unit)} (log)</text>`,
  );
  p.series.forEach((s, k) => {
    const points = s.values.map((v, i) => `${x(i)},${y(v)}`).join(' ');
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
    );
    s.values.forEach((v, i) => {
      parts.push(
        `<circle cx="${x(i)}" cy="${y(v)}" r="3" fill="${s.color}"><title>${fmt(v)}</title></circle>`,
      );
    });
    const ly = MARGIN.top + plotH + 36 + Math.floor(k / 2) * 16;
    const lx = x0 + MARGIN.left + (k % 2) * 180;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`,
      `<text x="${lx + 24}" y="${ly}">${escape(s.name)}</text>`,
    );
  });
  return parts.join('\n');
}

export function renderChart(sizes: readonly string[], panels: readonly Panel[], caption: string): string {
  const width = WIDTH * panels.length;
  const body = panels.map((p, i) => panel(p, sizes, i * WIDTH)).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT + 20}" viewBox="0 0 ${width} ${HEIGHT + 20}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    body,
    `<text x="${width / 2}" y="${HEIGHT + 12}" text-anchor="middle" fill="#555">${escape(caption)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
