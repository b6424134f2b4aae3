// Orders on the floor: late drafts, due soon, overdue by department, and
// what waits for a supervisor (returned orders to dispatch again, extension
// requests, rota requests) with the reasons in view.
import { html, useState, useLoad, useLiveEvent, Message, dateTime } from "../../lib/ui.js";
import { get, post } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";

function useAction() {
  const [error, setError] = useState(null);
  async function run(path, body) {
    setError(null);
    try { await post(path, body); return true; } catch (err) { setError(err); return false; }
  }
  return [error, run];
}

function Returned({ orders, departments }) {
  const [error, run] = useAction();
  const [chosen, setChosen] = useState({});
  return html`<h3>${t("floor.returned")}</h3><${Message} error=${error} />
    ${orders.length ? html`<table><thead><tr><th>#</th><th>${t("floor.department")}</th><th>${t("floor.return_reason")}</th><th></th></tr></thead>
    <tbody>${orders.map((o) => html`<tr data-returned=${o.order_id}>
      <td>${o.number}<br/><small class="muted">${o.title}</small></td><td>${o.from_department}</td><td>${o.reason}</td>
      <td class="row"><select aria-label=${t("floor.choose_department")} style="width:auto" value=${chosen[o.order_id] || ""}
            onChange=${(e) => setChosen({ ...chosen, [o.order_id]: e.target.value })}>
          <option value="">${t("floor.choose_department")}</option>
          ${departments.map((d) => html`<option value=${d.id}>${d.name}</option>`)}</select>
        <button disabled=${!chosen[o.order_id]} data-act="redispatch" onClick=${() => run(
          `/api/work-orders/${o.order_id}/redispatch`, { department_id: Number(chosen[o.order_id]) })}>${t("floor.redispatch")}</button></td>
    </tr>`)}</tbody></table>` : html`<p class="muted">${t("floor.nothing")}</p>`}`;
}

// The lead's request is decided on the order, a co-handling part's (加派) on the part.
function Extensions({ orders }) {
  const [error, run] = useAction();
  const decide = (o, approve) => run(o.part_id
    ? `/api/order-parts/${o.part_id}/extension/decision`
    : `/api/work-orders/${o.order_id}/extension/decision`, { approve });
  return html`<h3>${t("floor.extensions")}</h3><${Message} error=${error} />
    ${orders.length ? html`<table><tbody>${orders.map((o) => html`<tr data-extension=${o.order_id} data-part-id=${o.part_id || ""}>
      <td>${o.number}</td><td>${o.department}${o.part_id ? html` <small class="pill">${t("floor.co_part")}</small>` : null}</td>
      <td class="num">${o.days} ${t("floor.days")}</td><td>${o.reason}</td>
      <td class="row"><button data-act="approve" onClick=${() => decide(o, true)}>${t("floor.approve")}</button>
        <button class="ghost" data-act="refuse" onClick=${() => decide(o, false)}>${t("floor.refuse")}</button></td>
    </tr>`)}</tbody></table>` : html`<p class="muted">${t("floor.nothing")}</p>`}`;
}

function RotaRequests({ agents }) {
  const requests = useLoad((signal) => get("/api/rota/requests?status=pending", { signal }));
  useLiveEvent("rota.request", () => requests.reload());
  useLiveEvent("rota.changed", () => requests.reload());
  const [error, run] = useAction();
  const all = useLoad((signal) => get("/api/agents", { signal }));
  const name = (id) => {
    const a = agents.find((x) => x.agent_id === id)
      || ((all.data && all.data.agents) || []).find((x) => x.id === id);
    return a ? `${a.name}（${a.number}）` : `#${id}`;
  };
  const rows = (requests.data && requests.data.requests) || [];
  return html`<h3>${t("floor.requests")}</h3><${Message} error=${error || requests.error} />
    ${rows.length ? html`<table><tbody>${rows.map((r) => html`<tr data-request=${r.id}>
      <td>${t(`floor.request.${r.kind}`)}</td><td>${name(r.agent_id)}${r.other_agent_id ? ` ⇄ ${name(r.other_agent_id)}` : ""}</td>
      <td>${r.day}${r.end_day && r.end_day !== r.day ? ` – ${r.end_day}` : ""}</td><td>${r.reason}</td>
      <td class="row"><button onClick=${() => run("/api/rota/requests/decide", { id: r.id, approve: true }).then(requests.reload)}>${t("floor.approve")}</button>
        <button class="ghost" onClick=${() => run("/api/rota/requests/decide", { id: r.id, approve: false }).then(requests.reload)}>${t("floor.refuse")}</button></td>
    </tr>`)}</tbody></table>` : html`<p class="muted">${t("floor.nothing")}</p>`}`;
}

export function Orders({ floor }) {
  const o = floor.orders || {};
  const departments = useLoad((signal) => get("/api/departments", { signal }));
  const depts = ((departments.data && departments.data.departments) || []).filter((d) => d.active !== false);
  return html`<div class="card floor-orders"><h2>${t("floor.orders")}</h2>
    <div class="tiles">
      <div class="tile"><small>${t("floor.drafts_late")}</small><span class=${"big " + (o.drafts_late ? "bad" : "")} data-tile="drafts_late">${o.drafts_late ?? "–"}</span></div>
      <div class="tile"><small>${t("floor.due_soon")}</small><span class=${"big " + (o.due_soon ? "warn" : "")}>${o.due_soon ?? "–"}</span></div>
      <div class="tile"><small>${t("floor.overdue")}</small><span class=${"big " + (o.overdue ? "bad" : "")}>${o.overdue ?? "–"}</span></div>
    </div>
    ${(o.by_department || []).length > 0 && html`<h3>${t("floor.by_department")}</h3><table><thead><tr>
      <th>${t("floor.department")}</th><th class="num">${t("floor.overdue")}</th><th class="num">${t("floor.due_soon")}</th></tr></thead>
      <tbody>${o.by_department.map((d) => html`<tr><td>${d.department}</td><td class=${"num" + (d.overdue ? " bad" : "")}>${d.overdue}</td>
        <td class="num">${d.due_soon}</td></tr>`)}</tbody></table>`}
    ${(o.drafts || []).length > 0 && html`<p>${o.drafts.map((d) => html`<span class="pill bad" title=${dateTime(d.created_at)}>${d.number}</span> `)}</p>`}
    <${Returned} orders=${o.returned || []} departments=${depts} />
    <${Extensions} orders=${o.extensions || []} />
    <${RotaRequests} agents=${floor.agents} />
  </div>`;
}
