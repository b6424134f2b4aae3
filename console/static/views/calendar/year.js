// A calendar year as deadlines count it, read only: the days off (放假) and
// make-up working days (调休上班) of the State Council's arrangement, or
// that the year is not loaded (Monday-Friday assumed), and the warnings
// (this year or, from November, next year not loaded).  Supervisors see it
// on the floor; admins above the form that loads a year.
import { html, useState, useLoad, Message } from "../../lib/ui.js";
import { get } from "../../lib/api.js";
import { t, lang, messages } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "cal.missing_this": "{year} 年的放假安排未载入：时限按周一至周五暂计，请载入国务院通知",
    "cal.missing_next": "{year} 年的放假安排未载入：{year} 年到期的工单按周一至周五暂计并已标记，通知发布后请尽快载入",
    "calyear.title": "工作日历", "calyear.year": "年份", "calyear.loaded": "{year} 年已载入放假安排：{source}",
    "calyear.fallback": "{year} 年未载入放假安排：时限按周一至周五计算",
    "calyear.holidays": "放假", "calyear.workdays": "调休上班", "calyear.none": "无",
    "calyear.working_days": "全年工作日 {n} 天", "calyear.days": "{n} 天",
    "calyear.readonly": "日历由管理员载入（管理 → 工作日历）。",
  },
  en: {
    "cal.missing_this": "No arrangement for {year}: deadlines assume Monday-Friday; load the State Council's notice",
    "cal.missing_next": "The {year} arrangement is not loaded: orders due in {year} assume Monday-Friday and are flagged; load it as soon as it is published",
    "calyear.title": "Working calendar", "calyear.year": "Year", "calyear.loaded": "{year}: the arrangement is loaded ({source})",
    "calyear.fallback": "{year}: no arrangement loaded; deadlines count Monday to Friday",
    "calyear.holidays": "Days off", "calyear.workdays": "Make-up working days", "calyear.none": "None",
    "calyear.working_days": "{n} working days in the year", "calyear.days": "{n} days",
    "calyear.readonly": "Admins load the calendar (Administration → Calendar).",
  },
});

/** The same two warnings as the backend's calendar_warnings, in words. */
export function warnings(years, today = new Date()) {
  const out = [], year = today.getFullYear();
  if (!years.includes(year)) out.push(t("cal.missing_this", { year }));
  if (today.getMonth() >= 10 && !years.includes(year + 1)) out.push(t("cal.missing_next", { year: year + 1 }));
  return out;
}

const DAY = 86400000;

/** Consecutive dates (YYYY-MM-DD, sorted) as [first, last, count] runs. */
function runs(dates) {
  const out = [];
  for (const d of dates) {
    const last = out[out.length - 1];
    if (last && Date.parse(d) - Date.parse(last[1]) === DAY) { last[1] = d; last[2] += 1; }
    else out.push([d, d, 1]);
  }
  return out;
}

function day(iso, weekday = false) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(lang(), { month: "short", day: "numeric",
                                                             ...(weekday ? { weekday: "short" } : {}) });
}

/** A run's name as the State Council's notice gives it (元旦, 春节...), if any. */
function named(s, first) {
  const name = (s.names || {})[first];
  return name ? html`<b>${name}</b> ` : null;
}

/** The year's days off and make-up days; `years` the loaded ones (warnings). */
export function CalendarYear({ years, warn = true, note = false }) {
  const thisYear = new Date().getFullYear();
  const [year, setYear] = useState(thisYear);
  const summary = useLoad((signal) => get(`/api/calendar/${year}`, { signal }), [year]);
  const choices = [...new Set([thisYear - 1, thisYear, thisYear + 1, ...years])].sort();
  const s = summary.data && summary.data.year === year ? summary.data : null;
  return html`<div data-testid="calendar-year">
    ${(warn ? warnings(years) : []).map((w) => html`<p class="bad" data-warning><b>⚠ ${w}</b></p>`)}
    <label class="row"><span>${t("calyear.year")}</span>
      <select name="calendar-year" value=${year} onChange=${(e) => setYear(Number(e.target.value))}>
        ${choices.map((y) => html`<option value=${y}>${y}</option>`)}</select></label>
    <${Message} error=${summary.error} />
    ${s ? html`<p data-loaded=${String(s.loaded)}>${s.loaded ? t("calyear.loaded", { year, source: s.source })
                                                            : t("calyear.fallback", { year })}
        · ${t("calyear.working_days", { n: s.working_days })}</p>
      <div class="calendar-days">
        <div><h3>${t("calyear.holidays")}</h3>
          ${s.holidays.length ? html`<ul data-list="holidays">${runs(s.holidays).map(([a, b, n]) => html`
            <li>${named(s, a)}${day(a)}${a === b ? "" : ` – ${day(b)}`} <span class="muted">${t("calyear.days", { n })}</span></li>`)}</ul>`
            : html`<p class="muted">${t("calyear.none")}</p>`}</div>
        <div><h3>${t("calyear.workdays")}</h3>
          ${s.workdays.length ? html`<ul data-list="workdays">${s.workdays.map((d) => html`<li>${day(d, true)}${(s.names || {})[d] ? html` <span class="muted">${s.names[d]}</span>` : null}</li>`)}</ul>`
            : html`<p class="muted">${t("calyear.none")}</p>`}</div>
      </div>` : null}
    ${note ? html`<p class="muted"><small>${t("calyear.readonly")}</small></p>` : null}
  </div>`;
}

/** The floor's card: the calendar, read only. */
export function CalendarCard() {
  const cal = useLoad((signal) => get("/api/calendar", { signal }));
  return html`<div class="card floor-calendar"><h2>${t("calyear.title")}</h2>
    <${Message} error=${cal.error} />
    ${cal.data ? html`<${CalendarYear} years=${cal.data.years} note=${true} />` : null}
  </div>`;
}
