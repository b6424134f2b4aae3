// Departments held to account (the classic page's accounts panel): the last
// 30 days; a department's login sees its own row.  Exports are audited.
import { html, useLoad, Message } from "../../lib/ui.js";
import { get } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";
import { pct } from "./format.js";

export function Accounts() {
  const acc = useLoad((signal) => get("/api/stats/departments", { signal }));
  const data = acc.data;
  const rows = data ? data.departments.filter((d) => d.received || d.returned) : [];
  return html`<div class="card" data-testid="accounts">
    <div class="row"><h2>${t("reports.accounts")}</h2>
      ${data && html`<small class="muted">${t("reports.accounts_note", { target: pct(data.completion_target) })}</small>`}
      <span class="spacer"></span>
      <a href="/api/stats/departments?format=csv" download>${t("reports.export_csv")}</a>
      <a href="/api/stats/departments?format=xlsx" download>${t("reports.export_xlsx")}</a></div>
    <${Message} error=${acc.error} />
    <table><thead><tr><th>${t("reports.department")}</th><th class="num">${t("reports.m.received")}</th>
      <th class="num">${t("reports.m.completion_rate")}</th><th class="num">${t("reports.m.on_time_rate")}</th>
      <th class="num">${t("reports.m.return_rate")}</th><th class="num">${t("reports.m.overdue_open")}</th>
      <th class="num">${t("reports.m.satisfaction_rate")}</th></tr></thead>
    <tbody>${rows.length ? rows.map((d) => html`<tr key=${d.department_id}><td>${d.department}</td>
      <td class="num">${d.received}</td>
      <td class=${`num ${d.below_target ? "bad" : "good"}`}>${pct(d.completion_rate)}</td>
      <td class="num">${pct(d.on_time_rate)}</td><td class="num">${pct(d.return_rate)}</td>
      <td class=${`num ${d.overdue ? "bad" : ""}`}>${d.overdue}</td>
      <td class="num">${pct(d.satisfaction_rate)}</td></tr>`)
      : html`<tr><td colspan="7" class="muted">${t("reports.no_orders_30d")}</td></tr>`}</tbody></table>
  </div>`;
}
