// A uPlot chart in a Preact component: bars or lines of a few series over
// labelled x positions (hours, days, weeks, months).
import { html, useEffect, useRef } from "../../lib/ui.js";
import uPlot from "../../vendor/uPlot.esm.js";

const COLOURS = ["#1565c0", "#2e7d32", "#c62828", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037"];

function ensureStyle() {
  if (document.querySelector("link[data-uplot]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/vendor/uPlot.min.css";
  link.dataset.uplot = "1";
  document.head.appendChild(link);
}

/** labels: x labels (xLabel names them in the legend); series: [{label, values}];
 * percent: y as 0-100 %. */
export function Chart({ labels, series, xLabel, bars = false, percent = false, height = 180, title }) {
  const box = useRef(null);
  useEffect(() => {
    ensureStyle();
    const el = box.current;
    if (!el || !labels.length) return undefined;
    const xs = labels.map((_, i) => i);
    // Bars for one series; lines with points for several (bars would overlap).
    const asBars = bars && series.length === 1;
    const paths = asBars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
    const opts = {
      title, width: Math.max(el.clientWidth, 320), height,
      legend: { show: true },
      scales: {
        x: { time: false, auto: false, range: [-0.5, labels.length - 0.5] },
        y: { range: (_u, _min, max) => [0, percent ? 1 : Math.max(1, Math.ceil((max || 0) * 1.1))] },
      },
      axes: [
        { incrs: [1, 2, 3, 6, 7, 14, 30, 60, 90], values: (_u, ticks) => ticks.map((i) => labels[i] ?? "") },
        { values: (_u, ticks) => ticks.map((v) => (percent ? `${Math.round(v * 100)}%` : v)) },
      ],
      series: [{ label: xLabel, value: (_u, i) => labels[i] ?? "" },
        ...series.map((s, n) => ({
          label: s.label, stroke: COLOURS[n % COLOURS.length],
          fill: asBars ? COLOURS[n % COLOURS.length] + "cc" : undefined, paths, width: 2,
          points: { show: !asBars, size: 6 },
          value: (_u, v) => (v == null ? "–" : percent ? `${Math.round(v * 1000) / 10}%` : v),
        }))],
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
    return () => plot.destroy();
  }, [JSON.stringify(labels), JSON.stringify(series), xLabel, bars, percent, height, title]);
  return html`<div class="chart" ref=${box}></div>`;
}
