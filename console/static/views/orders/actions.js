// What each role may do to an order in a list, and the small form that asks
// for the words an action needs (a reason, an answer, days, a department).
import { html, useState } from "../../lib/ui.js";
import { post } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";

/** The actions for an order in list `kind`, for login `me`:
 * [{name, ask: [field...], run(values) -> Promise, part?}] */
export function actionsFor(order, kind, me) {
  const id = order.id;
  const step = (path, body) => post(`/api/work-orders/${id}/${path}`, body);
  const out = [];
  const add = (name, ask, run) => out.push({ name, ask, run });
  if (kind === "department") {
    const part = order.my_part;
    const status = part ? part.status : order.status;
    if (status === "dispatched") add("accept", [], () => step("accept"));
    if (["dispatched", "accepted"].includes(status)) {
      add("reply", ["reply"], (v) => step("reply", { reply: v.reply }));
      add("return", ["reason"], (v) => step("return", { reason: v.reason }));
    }
    // Complex help, once: the lead for the order, a co-handler for its part (same route).
    const own = part || order;
    if (["dispatched", "accepted"].includes(status) && order.category === "help"
        && order.complexity === "complex" && own.deadline_days === 5 && own.extension_days == null) {
      add("extension", ["days", "reason"], (v) => step("extension", { days: Number(v.days), reason: v.reason }));
    }
  } else if (kind === "review") {
    add("review_accept", [], () => step("review", { accept: true }));
    add("send_back", ["reason"], (v) => step("review", { accept: false, reason: v.reason }));
  } else if (kind === "extensions") {
    if (order.extension_days != null) {
      add("approve", ["note"], (v) => step("extension/decision", { approve: true, note: v.note || "" }));
      add("refuse", ["note"], (v) => step("extension/decision", { approve: false, note: v.note || "" }));
    }
    // A co-handling part's own request (加派), decided on the part.
    for (const r of order.part_requests || []) {
      const decide = (approve) => (v) => post(`/api/order-parts/${r.id}/extension/decision`, { approve, note: v.note || "" });
      out.push({ name: "approve_part", part: r, ask: ["note"], run: decide(true) });
      out.push({ name: "refuse_part", part: r, ask: ["note"], run: decide(false) });
    }
  } else if (kind === "returned" && order.status === "returned") {
    add("redispatch", ["department"], (v) => step("redispatch", { department_id: Number(v.department) }));
  } else if (kind === "overdue" && order.status !== "answered") {
    // The lead is late; an answered lead's late co-handling parts are urged
    // each on its own, from the order's details (加派).
    add("urge", ["urge"], (v) => step("urge", { note: v.urge }));
  } else if (kind === "dissatisfied") {
    add("reopen", ["note"], (v) => step("reopen", { note: v.note || "" }));
  }
  return out;
}

const ASK = { reply: "orders.ask.reply", reason: "orders.ask.reason", days: "orders.ask.days",
  note: "orders.ask.note", department: "orders.ask.department", urge: "orders.ask.urge" };

/** The inline form for one action; calls done(error|null) when finished. */
export function AskForm({ action, departments, done }) {
  const [values, setValues] = useState({});
  const [busy, setBusy] = useState(false);
  const set = (name) => (e) => setValues({ ...values, [name]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    try { await action.run(values); done(null); } catch (err) { done(err); }
    setBusy(false);
  };
  return html`<form class="row" data-ask=${action.name} onSubmit=${submit}>
    ${action.ask.map((name) => name === "department"
      ? html`<label>${t(ASK[name])}<select name=${name} onChange=${set(name)} required>
          <option value=""></option>
          ${departments.map((d) => html`<option value=${d.id}>${d.name}</option>`)}</select></label>`
      : name === "days"
        ? html`<label>${t(ASK[name])}<input name=${name} type="number" min="1" max="5" required onInput=${set(name)} /></label>`
        : html`<label>${t(ASK[name])}<textarea name=${name} rows="2" required=${name !== "note"} onInput=${set(name)}></textarea></label>`)}
    <button type="submit" disabled=${busy}>${t("orders.act.confirm")}</button>
    <button type="button" onClick=${() => done(undefined)}>${t("orders.act.cancel")}</button>
  </form>`;
}
