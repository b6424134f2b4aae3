// Work orders (工单): the department's worklist (sign for, answer, return,
// ask for more time, its co-handling parts of 加派 orders, attachments,
// 催办 notices and 80 % warnings) and the supervisor's lists (answers to
// review — 统一答复 —, extension requests, returned orders, the 督办
// overdue list with 催办, dissatisfied citizens, 并案 of duplicates) and
// the 回访 due.  Lists load once and reload on every order.* live event.
import { html, useState, useLoad, useLiveEvent, Message, dateTime } from "../lib/ui.js";
import { get } from "../lib/api.js";
import { t, label } from "../lib/i18n.js";
import "./orders/words.js";
import { actionsFor, AskForm } from "./orders/actions.js";
import { OrderDetail } from "./orders/detail.js";
import { Rules } from "./orders/rules.js";

const KINDS = {
  department: ["department"],
  supervisor: ["review", "overdue", "returned", "extensions", "dissatisfied", "rules"],
  admin: ["review", "overdue", "returned", "extensions", "dissatisfied", "rules"],
};

// The 催办, the 80 % warning, lateness and a pending extension request of `of`:
// the order, or for a co-handling department its own part (加派).
function Notes({ of, open, fallback, now }) {
  const late = open && of.due_at && Date.parse(of.due_at) < now;
  return html`
    ${of.urged_at ? html`<div class="pill bad" data-note="urged">${t("orders.urged", { note: of.urge_note })}</div>` : null}
    ${of.warned_at && !late ? html`<div class="pill" data-note="warned">${t("orders.warned")}</div>` : null}
    ${late ? html`<div class="pill bad" data-note="late">${t("orders.late")}</div>` : null}
    ${open && of.extension_days != null ? html`<div class="pill" data-note="extension">${t("orders.extension_pending", { n: of.extension_days })}</div>` : null}
    ${of.extended ? html`<div class="muted" data-note="extended">${t("orders.part_extended", { date: of.due_date })}</div>` : null}
    ${fallback ? html`<div class="muted">${t("orders.fallback")}</div>` : null}`;
}

function Row({ order, kind, me, departments, open, toggle, selected, select, changed }) {
  const [asking, setAsking] = useState(null);
  const [error, setError] = useState(null);
  const actions = actionsFor(order, kind, me);
  const run = (action) => {
    setError(null);
    if (action.ask.length) { setAsking(action); return; }
    action.run({}).then(() => changed(), setError);
  };
  const done = (err) => { setAsking(null); if (err) setError(err); else if (err === null) changed(); };
  const supervisor = ["supervisor", "admin"].includes(me.role);
  const mine = order.my_part;  // a co-handling department's own part (加派)
  return html`<tr data-order-id=${order.id}>
      <td>${supervisor ? html`<input type="checkbox" data-select checked=${selected.includes(order.id)}
          onChange=${() => select(order.id)} /> ` : null}${order.number}</td>
      <td>${order.title}
        ${order.my_part ? html`<div class="muted" data-note="co">${t("orders.my_part", { status: label("part_status", order.my_part.status) })}</div>` : null}
        ${order.reply ? html`<div class="muted">${t("orders.reply_shown", { reply: order.reply })}</div>` : null}
        ${kind === "extensions" ? (order.part_requests || []).map((r) => html`<div class="muted" data-note="part-request">${t("orders.part_request", r)}</div>`) : null}
        ${mine ? html`<${Notes} of=${mine} open=${["dispatched", "accepted"].includes(mine.status)} fallback=${order.deadline_fallback} now=${Date.now()} />`
          : html`<${Notes} of=${order} open=${!order.answered_at && !order.closed_at} fallback=${order.deadline_fallback} now=${Date.now()} />`}</td>
      <td>${label("category", order.category)}</td>
      <td>${order.district_name || "–"}</td>
      <td data-due>${(mine || order).due_date || "–"}</td>
      <td>${label("status", order.status)}${order.returns ? html`<div class="muted">${t("orders.returns", { n: order.returns })}</div>` : null}</td>
      <td>${actions.map((a) => html`<button key=${a.name + (a.part ? a.part.id : "")} data-act=${a.name} data-part-id=${a.part ? a.part.id : ""}
          onClick=${() => run(a)}>${t(`orders.act.${a.name}`, a.part || {})}</button> `)}
        <button data-act="open" onClick=${toggle}>${t(open ? "orders.act.close" : "orders.act.open")}</button>
        ${asking ? html`<${AskForm} action=${asking} departments=${departments} done=${done} />` : null}
        <${Message} error=${error} /></td>
    </tr>
    ${open ? html`<tr><td colspan="7"><${OrderDetail} id=${order.id} me=${me} departments=${departments}
        selected=${selected} onChanged=${changed} /></td></tr>` : null}`;
}

function VisitsDue() {
  const { data, error, reload } = useLoad((signal) => get("/api/visits/due", { signal }));
  useLiveEvent("*", (ev) => { if (ev.type && ev.type.startsWith("order.")) reload(); });
  if (error) return html`<${Message} error=${error} />`;
  if (!data) return null;
  return html`<div class="card" data-part="visits-due"><h3>${t("orders.visits.title")}</h3>
    <p>${t("orders.visits.summary", data)}</p>
    <ul>${data.orders.map((o) => html`<li class=${o.visit_state === "overdue" ? "bad" : ""}>
      ${o.number} · ${label("orders.visit_state", o.visit_state)} · ${dateTime(o.visit_due_at)}</li>`)}</ul></div>`;
}

export default function Orders({ me }) {
  const kinds = KINDS[me.role] || [];
  const [kind, setKind] = useState(kinds[0]);
  const [open, setOpen] = useState(null);
  const [selected, setSelected] = useState([]);
  const list = useLoad((signal) => (kind === "rules" ? Promise.resolve({ work_orders: [] })
    : get(`/api/worklists/${kind}`, { signal })), [kind]);
  const depts = useLoad((signal) => get("/api/departments", { signal }));
  useLiveEvent("*", (ev) => { if (ev.type && ev.type.startsWith("order.")) list.reload(); });
  const select = (id) => setSelected(selected.includes(id) ? selected.filter((x) => x !== id) : [...selected, id]);
  const orders = list.data ? list.data.work_orders : [];
  const departments = depts.data ? depts.data.departments : [];
  return html`<div>
    ${me.role !== "department" ? html`<${VisitsDue} />` : null}
    <div class="card">
      <h2>${t("orders.title")}</h2>
      <div class="row" role="tablist">${kinds.map((k) => html`<button role="tab" data-kind=${k}
          aria-selected=${k === kind} class=${k === kind ? "pill good" : "pill"}
          onClick=${() => { setKind(k); setOpen(null); setSelected([]); }}>${t(`orders.kind.${k}`)}</button>`)}</div>
      <${Message} error=${list.error} />
      ${kind === "rules" ? html`<${Rules} me=${me} />` : html`<table><thead><tr><th>${t("orders.col.number")}</th><th>${t("orders.col.title")}</th>
        <th>${t("orders.col.category")}</th><th>${t("orders.col.district")}</th><th>${t("orders.col.due")}</th>
        <th>${t("orders.col.status")}</th><th>${t("orders.col.actions")}</th></tr></thead>
        <tbody>${orders.map((o) => html`<${Row} key=${o.id} order=${o} kind=${kind} me=${me}
            departments=${departments} open=${open === o.id} toggle=${() => setOpen(open === o.id ? null : o.id)}
            selected=${selected} select=${select} changed=${list.reload} />`)}
          ${!list.loading && !orders.length ? html`<tr><td colspan="7" class="muted">${t("orders.empty")}</td></tr>` : null}
        </tbody></table>`}
    </div>
  </div>`;
}
