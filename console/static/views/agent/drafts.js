// The agent's own drafts: orders waiting to be written that are not the
// current call's (a callback that reached the citizen drafts the original
// call's order; a call whose pop is gone).  "Fill in" opens the form.
import { html, useLoad, useLiveEvent, Message, dateTime } from "../../lib/ui.js";
import { get } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";

export function Drafts({ onOpen, current }) {
  const drafts = useLoad((signal) => get("/api/work-orders?status=draft&limit=20", { signal }));
  for (const type of ["order.draft", "order.submitted", "order.closed", "order.no_order", "callback.answered"]) {
    useLiveEvent(type, () => drafts.reload());
  }
  const rows = ((drafts.data && drafts.data.work_orders) || []).filter((o) => o.status === "draft");
  return html`<div data-testid="drafts">
    <${Message} error=${drafts.error} />
    ${rows.length === 0 && !drafts.loading && !drafts.error ? html`<p class="muted">${t("drafts.none")}</p>` : html`
    <table><thead><tr><th>${t("col.number")}</th><th>${t("col.caller")}</th><th></th></tr></thead>
    <tbody>${rows.map((o) => html`<tr>
      <td>${o.number}<br /><small class="muted">${label("category", o.category)} · ${dateTime(o.created_at)}</small></td>
      <td>${o.caller_number}</td>
      <td>${current === o.id ? html`<span class="muted">${t("drafts.open")}</span>`
        : html`<button class="ghost" onClick=${() => onOpen(o)}>${t("drafts.fill")}</button>`}</td>
    </tr>`)}</tbody></table>`}
  </div>`;
}

/** A draft opened from the list, shaped like a pop for the order form. */
export function popOfDraft(order) {
  return { uniqueid: `order-${order.id}`, phase: "answered", caller_number: order.caller_number,
           category: order.category, transcript: null, submit_by: null,
           order: { id: order.id, number: order.number, status: "draft" } };
}
