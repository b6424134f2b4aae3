// The IVR's lists (ported from the old page's lists panel): blocked numbers
// (a reason and an expiry) and registered vulnerable callers (queued ahead).
import { html, useState, useLoad, Message, dateTime } from "../../lib/ui.js";
import { get, post, del } from "../../lib/api.js";
import { t, messages } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "lists.blocked": "黑名单（需填写原因与到期时间）", "lists.priority": "优先来电（老年人、残障人士等）",
    "lists.number": "号码", "lists.reason": "原因", "lists.days": "天数", "lists.expires": "到期",
    "lists.note": "备注", "lists.add": "加入", "lists.lift": "解除", "lists.remove": "移除",
    "lists.added": "已加入", "lists.lifted": "已解除", "lists.removed": "已移除",
    "lists.reason.elderly": "老年人", "lists.reason.disabled": "残障人士", "lists.reason.other": "其他",
    "lists.never": "长期",
  },
  en: {
    "lists.blocked": "Blocked numbers (a reason and an expiry)", "lists.priority": "Priority callers (elderly, disabled...)",
    "lists.number": "Number", "lists.reason": "Reason", "lists.days": "Days", "lists.expires": "Expires",
    "lists.note": "Note", "lists.add": "Add", "lists.lift": "Lift", "lists.remove": "Remove",
    "lists.added": "Added", "lists.lifted": "Lifted", "lists.removed": "Removed",
    "lists.reason.elderly": "Elderly", "lists.reason.disabled": "Disabled", "lists.reason.other": "Other",
    "lists.never": "No expiry",
  },
});

function useAction(reload) {
  const [state, setState] = useState({ error: null, notice: null });
  return [state, async (fn, words) => {
    setState({ error: null, notice: null });
    try { await fn(); setState({ error: null, notice: words }); reload(); }
    catch (error) { setState({ error, notice: null }); }
  }];
}

function Blocked() {
  const list = useLoad((signal) => get("/api/blocked-numbers", { signal }));
  const [form, setForm] = useState({ number: "", reason: "", days: 7 });
  const [state, run] = useAction(list.reload);
  const rows = ((list.data && list.data.blocked) || []).filter((b) => !b.lifted_at);
  function add(e) {
    e.preventDefault();
    const expires_at = new Date(Date.now() + Number(form.days) * 86400000).toISOString();
    run(() => post("/api/blocked-numbers", { number: form.number, reason: form.reason, expires_at }), t("lists.added"));
  }
  return html`<div class="card" data-testid="blocked"><h2>${t("lists.blocked")}</h2>
    <form class="row" onSubmit=${add}>
      <input name="number" placeholder=${t("lists.number")} required style="width:160px" value=${form.number} onInput=${(e) => setForm({ ...form, number: e.target.value })} />
      <input name="reason" placeholder=${t("lists.reason")} required style="width:220px" value=${form.reason} onInput=${(e) => setForm({ ...form, reason: e.target.value })} />
      <input name="days" type="number" min="1" max="365" title=${t("lists.days")} style="width:80px" value=${form.days} onInput=${(e) => setForm({ ...form, days: e.target.value })} />
      <button type="submit">${t("lists.add")}</button></form>
    <${Message} error=${state.error || list.error} notice=${state.notice} />
    <table><thead><tr><th>${t("lists.number")}</th><th>${t("lists.reason")}</th><th>${t("lists.expires")}</th><th></th></tr></thead>
      <tbody>${rows.map((b) => html`<tr data-key=${b.number}><td>${b.number}</td><td>${b.reason}</td><td>${dateTime(b.expires_at, { time: false })}</td>
        <td><button type="button" class="ghost" onClick=${() => run(() => del(`/api/blocked-numbers/${b.id}`), t("lists.lifted"))}>${t("lists.lift")}</button></td></tr>`)}</tbody></table>
  </div>`;
}

function Priority() {
  const list = useLoad((signal) => get("/api/priority-callers", { signal }));
  const [form, setForm] = useState({ number: "", reason: "elderly", note: "" });
  const [state, run] = useAction(list.reload);
  const rows = (list.data && list.data.callers) || [];
  function add(e) {
    e.preventDefault();
    run(() => post("/api/priority-callers", form), t("lists.added"));
  }
  return html`<div class="card" data-testid="priority"><h2>${t("lists.priority")}</h2>
    <form class="row" onSubmit=${add}>
      <input name="number" placeholder=${t("lists.number")} required style="width:160px" value=${form.number} onInput=${(e) => setForm({ ...form, number: e.target.value })} />
      <select name="reason" style="width:120px" value=${form.reason} onChange=${(e) => setForm({ ...form, reason: e.target.value })}>
        ${["elderly", "disabled", "other"].map((r) => html`<option value=${r}>${t("lists.reason." + r)}</option>`)}</select>
      <input name="note" placeholder=${t("lists.note")} style="width:220px" value=${form.note} onInput=${(e) => setForm({ ...form, note: e.target.value })} />
      <button type="submit">${t("lists.add")}</button></form>
    <${Message} error=${state.error || list.error} notice=${state.notice} />
    <table><thead><tr><th>${t("lists.number")}</th><th>${t("lists.reason")}</th><th>${t("lists.note")}</th><th>${t("lists.expires")}</th><th></th></tr></thead>
      <tbody>${rows.map((p) => html`<tr data-key=${p.number}><td>${p.number}</td><td>${t("lists.reason." + p.reason)}</td><td>${p.note}</td>
        <td>${p.expires_at ? dateTime(p.expires_at, { time: false }) : t("lists.never")}</td>
        <td><button type="button" class="ghost" onClick=${() => run(() => del(`/api/priority-callers/${p.id}`), t("lists.removed"))}>${t("lists.remove")}</button></td></tr>`)}</tbody></table>
  </div>`;
}

export default function Lists() {
  return html`<div class="grid"><${Blocked} /><${Priority} /></div>`;
}
