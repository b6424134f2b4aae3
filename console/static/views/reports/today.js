// Today's figures (the classic page's stats panel): tiles and calls per
// hour; reloaded when a call ends (live), never polled.
import { html, useLoad, useLiveEvent, useRef, Message } from "../../lib/ui.js";
import { get } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";
import { Chart } from "./chart.js";
import { pct, num, secs } from "./format.js";

const TILES = [
  ["service_level", pct], ["abandon_rate", pct], ["asa_seconds", secs], ["completion_rate", pct],
  ["calls", num], ["aht_seconds", secs], ["within_target_minutes", pct],
  ["satisfaction_rate", pct], ["service_rating", pct], ["return_rate", pct],
  ["overdue_open", num], ["callbacks_open", num], ["visits_due", num],
];

export function Today() {
  const stats = useLoad((signal) => get("/api/stats", { signal }));
  const last = useRef(0);
  useLiveEvent("call.ended", () => {  // at most one reload every 10 s
    const now = Date.now();
    if (now - last.current > 10000) { last.current = now; stats.reload(); }
  });
  const st = stats.data;
  if (!st) return html`<div class="card"><${Message} error=${stats.error} /></div>`;
  const good = (key) => {
    if (key === "service_level" && st.service_level != null) return st.service_level >= st.service_level_target ? "good" : "bad";
    if (key === "overdue_open") return st.overdue_open ? "bad" : "good";
    return "";
  };
  // every hour of the day, so that quiet hours show as nothing
  const byHour = Object.fromEntries(st.hours.map((h) => [h.hour.slice(11, 13), h]));
  const hours = Array.from({ length: 24 }, (_, n) => String(n).padStart(2, "0"))
    .map((hh) => ({ hh, answered: 0, abandoned: 0, ...byHour[hh] }));
  return html`<div class="card" data-testid="today">
    <h2>${t("reports.today")} <small class="muted">${t("reports.sl_target", { target: pct(st.service_level_target) })}</small></h2>
    <div class="tiles">${TILES.map(([key, fmt]) => html`<div class="tile" key=${key}>
      <small>${t(`reports.m.${key}`)}</small><span class=${`big ${good(key)}`} data-metric=${key}>${fmt(st[key])}</span></div>`)}</div>
    ${st.hours.length ? html`<${Chart} bars=${true} title=${t("reports.per_hour")} xLabel=${t("reports.hour")}
        labels=${hours.map((h) => h.hh)}
        series=${[{ label: t("reports.m.answered"), values: hours.map((h) => h.answered) },
                  { label: t("reports.m.abandoned"), values: hours.map((h) => h.abandoned) }]} />`
      : html`<p class="muted">${t("reports.no_calls_today")}</p>`}
  </div>`;
}
