// Queues: the centre's tiles, one row per queue, and the callers waiting.
import { html, duration, secondsSince } from "../../lib/ui.js";
import { t } from "../../lib/i18n.js";
import { pct, totals } from "./state.js";

export function Tiles({ floor, now }) {
  const all = totals(floor.queues);
  const target = floor.thresholds.service_level_target;
  const slClass = all.service_level == null ? "" : all.service_level >= target ? "good" : "bad";
  const tile = (key, value, cls = "") => html`<div class="tile" data-tile=${key}>
    <small>${t(key)}</small><span class=${"big " + cls}>${value}</span></div>`;
  return html`<div class="tiles">
    ${tile("floor.waiting", all.waiting, all.waiting ? "warn" : "")}
    ${tile("floor.longest", all.longest_since ? duration(secondsSince(all.longest_since, now)) : "–")}
    ${tile("floor.answered", all.answered)}
    ${tile("floor.abandoned", all.abandoned)}
    ${tile("floor.sl", pct(all.service_level), slClass)}
    ${tile("floor.abandon_rate", pct(all.abandon_rate))}
    ${tile("floor.callbacks", all.callbacks)}
  </div>`;
}

export function Queues({ floor, now }) {
  const t15 = floor.thresholds;
  const rows = Object.entries(floor.queues);
  return html`<div class="card"><h2>${t("floor.queues")}</h2>
    <table class="floor-queues"><thead><tr>
      <th>${t("floor.queue")}</th><th class="num">${t("floor.waiting")}</th><th class="num">${t("floor.longest")}</th>
      <th class="num">${t("floor.answered")}</th><th class="num">${t("floor.abandoned")}</th>
      <th class="num">${t("floor.sl")}</th><th class="num">${t("floor.asa")}</th><th class="num">${t("floor.aht")}</th>
      <th class="num">${t("floor.abandon_rate")}</th><th class="num">${t("floor.callbacks")}</th>
      <th class="num">${t("floor.logged_in")}</th><th class="num">${t("floor.available")}</th></tr></thead>
    <tbody>${rows.map(([name, q]) => {
      const longest = q.longest_since ? secondsSince(q.longest_since, now) : null;
      return html`<tr data-queue=${name}>
        <td>${q.label}</td>
        <td class=${"num" + (q.waiting ? " warn" : "")} data-field="waiting">${q.waiting}</td>
        <td class=${"num" + (longest > t15.long_wait_seconds ? " bad" : "")}>${longest == null ? "–" : duration(longest)}</td>
        <td class="num" data-field="answered">${q.answered}</td><td class="num" data-field="abandoned">${q.abandoned}</td>
        <td class=${"num " + (q.service_level == null ? "" : q.service_level >= t15.service_level_target ? "good" : "bad")}
            data-field="service_level">${pct(q.service_level)}</td>
        <td class="num">${q.asa == null ? "–" : duration(q.asa)}</td><td class="num">${q.aht == null ? "–" : duration(q.aht)}</td>
        <td class="num">${pct(q.abandon_rate)}</td><td class="num">${q.callbacks_pending}</td>
        <td class="num">${q.logged_in}</td><td class="num">${q.available}</td></tr>`;
    })}</tbody></table>
    <h3>${t("floor.callers")}</h3>
    ${rows.some(([, q]) => q.callers.length) ? html`<ul class="callers">${rows.flatMap(([name, q]) => q.callers.map((c) => html`
      <li data-caller=${c.uniqueid}><span class="pill">${q.label}</span> ${c.caller}${" "}<b class=${secondsSince(c.since, now) > t15.long_wait_seconds ? "bad" : ""}>${duration(secondsSince(c.since, now))}</b></li>`))}</ul>`
      : html`<p class="muted">${t("floor.no_callers")}</p>`}
  </div>`;
}
