// Calls per hour today against the same weekday last week, and each hour's
// service level and abandon rate (bars in SVG: no chart library needed).
import { html } from "../../lib/ui.js";
import { t } from "../../lib/i18n.js";
import { pct } from "./state.js";

export function Trends({ trends }) {
  const hours = (trends && trends.hours) || [];
  const max = Math.max(1, ...hours.map((h) => Math.max(h.calls, h.calls_last_week)));
  const w = 100 / 24;
  return html`<div class="card"><h2>${t("floor.trends")}</h2>
    <p class="row"><span class="pill info">${t("floor.today")}</span><span class="pill">${t("floor.last_week")}</span></p>
    <svg class="trend" viewBox="0 0 100 60" preserveAspectRatio="none" role="img" aria-label=${t("floor.trends")}>
      ${hours.map((h, i) => html`<g>
        <rect x=${i * w + 0.3} y=${50 - 45 * h.calls_last_week / max} width=${w / 2 - 0.3} height=${45 * h.calls_last_week / max} fill="#b0bec5">
          <title>${h.hour}${t("floor.hour")} ${t("floor.last_week")} ${h.calls_last_week}</title></rect>
        <rect x=${i * w + w / 2} y=${50 - 45 * h.calls / max} width=${w / 2 - 0.3} height=${45 * h.calls / max} fill="#1565c0">
          <title>${h.hour}${t("floor.hour")} ${t("floor.today")} ${h.calls} · ${t("floor.sl")} ${pct(h.service_level)} · ${t("floor.abandon_rate")} ${pct(h.abandon_rate)}</title></rect>
        ${i % 3 === 0 && html`<text x=${i * w} y="58" font-size="3">${h.hour}</text>`}</g>`)}
    </svg>
    <table class="trend-rates"><tbody>
      <tr><th>${t("floor.sl")}</th>${hours.filter((h) => h.offered).map((h) => html`<td title=${`${h.hour}${t("floor.hour")}`}>${h.hour}${t("floor.hour")} ${pct(h.service_level)}</td>`)}</tr>
      <tr><th>${t("floor.abandon_rate")}</th>${hours.filter((h) => h.offered).map((h) => html`<td>${h.hour}${t("floor.hour")} ${pct(h.abandon_rate)}</td>`)}</tr>
    </tbody></table>
  </div>`;
}
