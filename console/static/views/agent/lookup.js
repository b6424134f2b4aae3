// Any order by its number or the citizen's phone, read only (each look-up
// is audited by the server).
import { html, useState, Message } from "../../lib/ui.js";
import { get, query } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";

export function Lookup() {
  const [q, setQ] = useState("");
  const [orders, setOrders] = useState(null);
  const [error, setError] = useState(null);
  async function search(e) {
    e.preventDefault();
    const value = q.trim();
    if (!value) return;
    setError(null);
    const params = /^[A-Za-z]/.test(value) ? { number: value.toUpperCase() } : { phone: value.replace(/\D/g, "") };
    try { setOrders((await get("/api/lookup/orders" + query(params))).orders); }
    catch (err) { setError(err); setOrders(null); }
  }
  return html`<div data-testid="lookup">
    <form class="row" onSubmit=${search}>
      <input value=${q} onInput=${(e) => setQ(e.target.value)} placeholder=${t("lookup.placeholder")} style="flex:1;width:auto" />
      <button type="submit">${t("lookup.go")}</button>
    </form>
    <p class="muted small">${t("lookup.hint")}</p>
    <${Message} error=${error} />
    ${orders && !orders.length ? html`<p class="muted">${t("lookup.none")}</p>` : ""}
    ${orders && orders.length ? html`<table><thead><tr><th>${t("col.number")}</th><th>${t("col.title")}</th>
      <th>${t("col.status")}</th><th>${t("col.due")}</th></tr></thead>
      <tbody>${orders.map((o) => html`<tr>
        <td>${o.number}<br /><small>${label("category", o.category)}</small></td>
        <td>${o.title}<br /><small class="muted">${o.department || "–"} · ${o.caller_number || ""} ${o.caller_name || ""}</small>
          ${o.reply ? html`<br /><small>${t("col.reply")}：${o.reply}</small>` : ""}</td>
        <td class="nowrap">${label("status", o.status)}</td><td class="nowrap">${o.due_date || "–"}</td></tr>`)}</tbody></table>` : ""}
  </div>`;
}
