// One order opened from a list: what the citizen said, the lead and
// co-handling parts (加派), attachments, the callers of a merged matter
// (并案), the history; supervisors add co-handling departments, give a
// returned part to another department, and merge duplicates into it.
import { html, useState, useLoad, Message, dateTime } from "../../lib/ui.js";
import { get, post, ApiError } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";
import { WRITTEN } from "./words.js";
import { AskForm } from "./actions.js";

async function upload(orderId, file) {
  const url = `/api/work-orders/${orderId}/attachments?filename=${encodeURIComponent(file.name)}`;
  const r = await fetch(url, { method: "POST", body: file, credentials: "same-origin",
    headers: { "Content-Type": file.type || "application/octet-stream" } });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, data.error?.code || `http_${r.status}`, data.error?.message);
  return data;
}

const OPEN_PART = ["dispatched", "accepted"];

// A part's own deadline (after its extension), 催办, 80 % warning and pending
// request; supervisors urge an open part's department (加派).
function PartNotes({ part, order, supervisor, changed }) {
  const [urging, setUrging] = useState(false);
  const open = OPEN_PART.includes(part.status) && ["dispatched", "accepted", "answered"].includes(order.status);
  const urge = { name: "urge_part", ask: ["urge"], run: (v) => post(`/api/order-parts/${part.id}/urge`, { note: v.urge }) };
  return html`<div class="muted">${t("orders.part_due", { date: part.due_date || "–" })}${part.extended ? ` · ${t("orders.part_extended", { date: part.due_date })}` : ""}</div>
    ${part.urged_at ? html`<div class="pill bad" data-note="urged">${t("orders.urged", { note: part.urge_note })}</div>` : null}
    ${open && part.warned_at ? html`<div class="pill" data-note="warned">${t("orders.warned")}</div>` : null}
    ${open && part.extension_days != null ? html`<div class="pill" data-note="extension">${t("orders.extension_pending", { n: part.extension_days })}</div>` : null}
    ${supervisor && open ? (urging
      ? html`<${AskForm} action=${urge} departments=${[]} done=${(err) => { setUrging(false); if (err !== undefined) changed(err); }} />`
      : html`<button data-act="urge_part" onClick=${() => setUrging(true)}>${t("orders.act.urge")}</button>`) : null}`;
}

function Parts({ order, me, departments, changed }) {
  const [adding, setAdding] = useState([]);
  const supervisor = ["supervisor", "admin"].includes(me.role);
  const lead = departments.find((d) => d.id === order.department_id);
  const act = (fn) => fn().then(() => changed(null), changed);
  return html`<section data-part="parts"><h3>${t("orders.detail.parts")}</h3>
    <ul>
      <li>${t("orders.lead")}：${lead ? lead.name : "–"}（${label("status", order.status)}）</li>
      ${order.parts.map((p) => html`<li data-part-id=${p.id}>${t("orders.co")}：${p.department}（${label("part_status", p.status)}）
        ${p.reply ? html`<div class="muted">${t("orders.reply_shown", { reply: p.reply })}</div>` : null}
        <${PartNotes} part=${p} order=${order} supervisor=${supervisor} changed=${changed} />
        ${supervisor && p.status === "returned" ? html`
          <select onChange=${(e) => e.target.value && act(() => post(`/api/order-parts/${p.id}/reassign`, { department_id: Number(e.target.value) }))}>
            <option value="">${t("orders.act.reassign")}</option>
            ${departments.filter((d) => d.id !== order.department_id).map((d) => html`<option value=${d.id}>${d.name}</option>`)}
          </select>
          <button onClick=${() => act(() => post(`/api/order-parts/${p.id}/reassign`, { department_id: null }))}>${t("orders.act.drop")}</button>` : null}
      </li>`)}
    </ul>
    ${!order.parts.length ? html`<p class="muted">${t("orders.detail.no_parts")}</p>` : null}
    ${supervisor && ["dispatched", "accepted", "answered"].includes(order.status) ? html`<div class="row">
      <select multiple size="4" data-add-parts onChange=${(e) => setAdding([...e.target.selectedOptions].map((o) => Number(o.value)))}>
        ${departments.filter((d) => d.id !== order.department_id && !order.parts.some((p) => p.department_id === d.id && p.status !== "dropped"))
          .map((d) => html`<option value=${d.id}>${d.name}</option>`)}
      </select>
      <button disabled=${!adding.length} onClick=${() => act(() => post(`/api/work-orders/${order.id}/parts`, { department_ids: adding }))}>${t("orders.act.add_parts")}</button>
    </div>` : null}
  </section>`;
}

function Attachments({ order, changed }) {
  const [busy, setBusy] = useState(false);
  const pick = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    setBusy(true);
    try { await upload(order.id, file); changed(null); } catch (err) { changed(err); }
    setBusy(false);
    e.target.value = "";
  };
  return html`<section data-part="attachments"><h3>${t("orders.detail.attachments")}</h3>
    ${order.attachments.length ? html`<ul>${order.attachments.map((a) => html`<li>
      <a href=${a.url} target="_blank" rel="noopener">${a.filename}</a> <span class="muted">${t("orders.size_kb", { n: Math.ceil(a.size / 1024) })} · ${dateTime(a.uploaded_at)}</span></li>`)}</ul>`
      : html`<p class="muted">${t("orders.detail.no_attachments")}</p>`}
    ${order.status !== "merged" ? html`<label>${t("orders.act.upload")}
      <input type="file" data-upload accept="image/jpeg,image/png,application/pdf,.docx,.xlsx" disabled=${busy} onChange=${pick} /></label>
      <p class="muted">${t("orders.detail.attach_help", { mb: order.attachment_max_mb })}</p>` : null}
  </section>`;
}

export function OrderDetail({ id, me, departments, selected, onChanged }) {
  const { data: order, error, reload } = useLoad((signal) => get(`/api/work-orders/${id}`, { signal }), [id]);
  const [msg, setMsg] = useState(null);
  const changed = (err) => { setMsg(err || { notice: true }); reload(); if (!err) onChanged(); };
  if (error) return html`<${Message} error=${error} />`;
  if (!order) return html`<p class="muted">${t("app.loading")}</p>`;
  const supervisor = ["supervisor", "admin"].includes(me.role);
  const duplicates = selected.filter((x) => x !== order.id);
  return html`<div class="card" data-order=${order.id}>
    <h3>${order.number} ${order.title}</h3>
    <p>${label("category", order.category)} · ${order.district_name || "–"}${order.address ? ` · ${order.address}` : ""} · ${label("status", order.status)}
      ${order.visit_due_at ? html` · ${t("orders.detail.visit_due", { at: dateTime(order.visit_due_at) })}` : null}</p>
    ${order.referral_line ? html`<p>${t("orders.detail.referral", { line: order.referral_line })}</p>` : null}
    ${order.merged_into_id ? html`<p>${t("orders.detail.merged_into", { id: order.merged_into_id })}</p>` : null}
    <h3>${t("orders.detail.description")}</h3><p>${order.description || "–"}</p>
    ${order.reply ? html`<p>${t("orders.reply_shown", { reply: order.reply })}</p>` : null}
    <${Parts} order=${order} me=${me} departments=${departments} changed=${changed} />
    <${Attachments} order=${order} changed=${changed} />
    ${order.callers.length > 1 ? html`<section><h3>${t("orders.detail.callers")}</h3><ul>
      ${order.callers.map((c) => html`<li>${c.number} ${c.caller_number} ${c.visit_result ? label("visit", c.visit_result) : ""}</li>`)}</ul></section>` : null}
    ${supervisor && ["dispatched", "accepted", "returned", "answered"].includes(order.status) ? html`<p class="row">
      <span class="muted">${t("orders.detail.merge_help")}</span>
      <button data-merge disabled=${!duplicates.length}
        onClick=${() => post(`/api/work-orders/${order.id}/merge`, { duplicate_ids: duplicates }).then(() => changed(null), changed)}>${t("orders.act.merge")}</button></p>` : null}
    <section><h3>${t("orders.detail.history")}</h3><ul>
      ${order.history.map((e) => html`<li>${dateTime(e.at)} ${label("order_event", e.kind)}${WRITTEN.has(e.kind) && e.detail ? `：${e.detail}` : ""}</li>`)}</ul></section>
    ${msg && msg.notice ? html`<${Message} notice=${t("orders.saved")} />` : html`<${Message} error=${msg} />`}
  </div>`;
}
