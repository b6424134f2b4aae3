// Reports: per queue, category, agent or department (or the whole centre),
// per day, week or month; a chart of one measure, the table of totals, and
// CSV / Excel exports (audited by the server).  Supervisors and admins also
// see today's figures and the departments' accounts; a department's login
// sees its own department only.
import { html, useState, useLoad, Message } from "../lib/ui.js";
import { get, query } from "../lib/api.js";
import { t, label } from "../lib/i18n.js";
import "./reports/i18n.js";
import { Chart } from "./reports/chart.js";
import { Today } from "./reports/today.js";
import { Accounts } from "./reports/accounts.js";
import { pct, num, secs } from "./reports/format.js";

const DIMENSIONS = ["all", "queue", "category", "agent", "department"];
const PERIODS = ["day", "week", "month"];
const COLUMNS = [
  ["calls", num], ["offered", num], ["answered", num], ["abandoned", num],
  ["service_level", pct], ["abandon_rate", pct], ["asa_seconds", secs], ["aht_seconds", secs],
  ["submitted", num], ["completion_rate", pct], ["on_time_rate", pct], ["return_rate", pct],
  ["satisfaction_rate", pct], ["service_rating", pct], ["within_target_minutes", pct],
];
const RATES = new Set(["service_level", "abandon_rate", "completion_rate", "on_time_rate",
  "return_rate", "satisfaction_rate", "service_rating", "within_target_minutes"]);
const MAX_SERIES = 6;

function isoDay(d) {
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

function keyName(dimension, row) {
  if (row.key === "-") return t("reports.none");
  if (dimension === "all") return t("reports.centre");
  if (dimension === "category") return label("category", row.key);
  if (dimension === "queue") return t("reports.queue_of", { name: label("category", row.key.replace(/^hotline-/, "")) });
  return row.label;
}

function Pickers({ form, setForm, department }) {
  const field = (name, body) => html`<label class="field" style="width:auto"><span>${t(`reports.${name}`)}</span>${body}</label>`;
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  return html`<div class="row">
    ${!department && field("dimension", html`<select value=${form.dimension} onChange=${set("dimension")} data-testid="dimension">
      ${DIMENSIONS.map((d) => html`<option value=${d}>${t(`reports.dim.${d}`)}</option>`)}</select>`)}
    ${field("period", html`<select value=${form.period} onChange=${set("period")} data-testid="period">
      ${PERIODS.map((p) => html`<option value=${p}>${t(`reports.per.${p}`)}</option>`)}</select>`)}
    ${field("from", html`<input type="date" value=${form.from} onChange=${set("from")} data-testid="from" />`)}
    ${field("to", html`<input type="date" value=${form.to} onChange=${set("to")} data-testid="to" />`)}
    ${field("measure", html`<select value=${form.measure} onChange=${set("measure")} data-testid="measure">
      ${COLUMNS.map(([m]) => html`<option value=${m}>${t(`reports.m.${m}`)}</option>`)}</select>`)}
  </div>`;
}

function chartOf(report, dimension, measure) {
  const periods = [...new Set(report.rows.map((r) => r.period))].sort();
  const keys = [...report.totals].sort((a, b) => b.calls + b.submitted - a.calls - a.submitted)
    .slice(0, MAX_SERIES);
  const series = keys.map((k) => ({
    label: keyName(dimension, k),
    values: periods.map((p) => {
      const row = report.rows.find((r) => r.period === p && r.key === k.key);
      return row ? row[measure] : null;
    }),
  }));
  return { labels: periods, series };
}

export default function Reports({ me }) {
  const department = me.role === "department";
  const today = new Date();
  const [form, setForm] = useState({
    dimension: department ? "department" : "category", period: "day", measure: "calls",
    from: isoDay(new Date(today.getTime() - 29 * 86400000)), to: isoDay(today),
  });
  const params = { dimension: form.dimension, period: form.period, from: form.from, to: form.to };
  const report = useLoad((signal) => get(`/api/reports${query(params)}`, { signal }),
    [form.dimension, form.period, form.from, form.to]);
  const data = report.data;
  const chart = data && chartOf(data, data.dimension, form.measure);
  const exportLink = (fmt) => `/api/reports/export${query({ ...params, format: fmt })}`;
  return html`<div style="display:grid;gap:12px" data-view="reports">
    ${!department && html`<${Today} />`}
    <div class="card" data-testid="report">
      <div class="row"><h2>${t("reports.title")}</h2><span class="spacer"></span>
        <a href=${exportLink("csv")} download data-testid="export-csv">${t("reports.export_csv")}</a>
        <a href=${exportLink("xlsx")} download data-testid="export-xlsx">${t("reports.export_xlsx")}</a></div>
      <${Pickers} form=${form} setForm=${setForm} department=${department} />
      <${Message} error=${report.error} />
      ${data && (data.totals.length ? html`
        <${Chart} labels=${chart.labels} series=${chart.series} percent=${RATES.has(form.measure)}
          xLabel=${t("reports.period")}
          bars=${!RATES.has(form.measure)} title=${t(`reports.m.${form.measure}`)} />
        <div style="overflow-x:auto"><table data-testid="totals"><thead><tr><th>${t("reports.key")}</th>
          ${COLUMNS.map(([m]) => html`<th class="num">${t(`reports.m.${m}`)}</th>`)}
          ${data.dimension === "department" && html`<th class="num">${t("reports.m.overdue_now")}</th>`}</tr></thead>
        <tbody>${data.totals.map((row) => html`<tr key=${row.key}><td>${keyName(data.dimension, row)}</td>
          ${COLUMNS.map(([m, fmt]) => html`<td class=${`num ${m === "completion_rate" && row.below_target ? "bad" : ""}`}>${fmt(row[m])}</td>`)}
          ${data.dimension === "department" && html`<td class=${`num ${row.overdue_now ? "bad" : ""}`}>${row.overdue_now}</td>`}
        </tr>`)}</tbody></table></div>`
        : html`<p class="muted">${t("reports.no_rows")}</p>`)}
    </div>
    <${Accounts} />
  </div>`;
}
