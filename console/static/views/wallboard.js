// The wall-board (大屏): the floor's figures for a large screen across the
// room -- no controls, large type, live from the same floor.* events.
import "./floor/words.js";
import { html, useNow, duration, secondsSince } from "../lib/ui.js";
import { t } from "../lib/i18n.js";
import { useFloor, pct, totals } from "./floor/state.js";
import { useStyleSheet } from "./floor.js";

export default function Wallboard() {
  useStyleSheet("/static/views/floor/wallboard.css");
  const floor = useFloor();
  const now = useNow(1000);
  if (!floor) return html`<div class="wall"><p>${t("app.loading")}</p></div>`;
  const all = totals(floor.queues);
  const target = floor.thresholds.service_level_target;
  const count = (state) => floor.agents.filter((a) => a.state === state).length;
  const longest = all.longest_since ? secondsSince(all.longest_since, now) : null;
  const big = (key, value, cls = "", extra = null) => html`<div class=${"wall-tile " + cls} data-wall=${key}>
    <div class="wall-label">${t(key)}</div><div class="wall-value">${value}</div>${extra}</div>`;
  return html`<div class="wall">
    <h1>${t("wall.title")}</h1>
    <div class="wall-tiles">
      ${big("wall.waiting", all.waiting, all.waiting ? "warn" : "")}
      ${big("wall.longest", longest == null ? "–" : duration(longest),
            longest > floor.thresholds.long_wait_seconds ? "bad" : "")}
      ${big("wall.sl", pct(all.service_level), all.service_level == null ? "" : all.service_level >= target ? "good" : "bad",
            html`<div class="wall-label">${t("wall.target", { target: pct(target) })}</div>`)}
      ${big("wall.abandon", pct(all.abandon_rate))}
      ${big("wall.answered", all.answered)}
      ${big("wall.available", count("available"), "good")}
      ${big("wall.on_call", count("on_call"))}
      ${big("wall.paused", count("paused"))}
    </div>
    <table class="wall-queues"><tbody>${Object.entries(floor.queues).map(([name, q]) => html`
      <tr data-queue=${name}><td>${q.label}</td>
        <td class=${q.waiting ? "warn" : ""}>${t("floor.waiting")} ${q.waiting}</td>
        <td>${q.longest_since ? duration(secondsSince(q.longest_since, now)) : "–"}</td>
        <td class=${q.service_level == null ? "" : q.service_level >= target ? "good" : "bad"}>${pct(q.service_level)}</td>
        <td>${t("floor.available")} ${q.available}</td></tr>`)}</tbody></table>
  </div>`;
}
