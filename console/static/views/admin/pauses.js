// Pause reasons: what agents may pause for, and for how long (PUT by code).
import { html, useState, useLoad, Message } from "../../lib/ui.js";
import { get, put } from "../../lib/api.js";
import { t, messages } from "../../lib/i18n.js";
import { fieldLabel } from "./words.js";

messages({
  "zh-CN": { "pauses.minutes": "时限（分钟）", "pauses.label": "显示名称", "pauses.code": "代码" },
  en: { "pauses.minutes": "Limit (minutes)", "pauses.label": "Shown as", "pauses.code": "Code" },
});

export default function Pauses() {
  const list = useLoad((signal) => get("/api/pause-reasons", { signal }));
  const [form, setForm] = useState(null); // {code, label, max_minutes, existing}
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  async function save(body, words) {
    setError(null); setNotice(null);
    try { await put("/api/pause-reasons", body); setForm(null); setNotice(words); list.reload(); }
    catch (err) { setError(err); }
  }
  function submit(e) {
    e.preventDefault();
    save({ code: form.code, label: form.label, max_minutes: Number(form.max_minutes), active: true }, t("admin.saved"));
  }
  const rows = (list.data && list.data.pause_reasons) || [];
  return html`<div data-testid="pauses">
    <div class="row"><button type="button" onClick=${() => setForm({ code: "", label: "", max_minutes: 15 })}>${t("admin.new")}</button></div>
    <${Message} error=${error || list.error} notice=${notice} />
    ${form ? html`<form class="card" data-testid="form-pauses" onSubmit=${submit}><div class="grid">
        <label class="field"><span>${t("pauses.code")}</span><input name="code" value=${form.code} disabled=${form.existing}
          onInput=${(e) => setForm({ ...form, code: e.target.value })} /></label>
        <label class="field"><span>${t("pauses.label")}</span><input name="label" value=${form.label}
          onInput=${(e) => setForm({ ...form, label: e.target.value })} /></label>
        <label class="field"><span>${t("pauses.minutes")}</span><input name="max_minutes" type="number" value=${form.max_minutes}
          onInput=${(e) => setForm({ ...form, max_minutes: e.target.value })} /></label></div>
        <div class="row"><button type="submit">${t("admin.save")}</button>
          <button type="button" class="ghost" onClick=${() => setForm(null)}>${t("admin.cancel")}</button></div></form>` : null}
    <div class="card"><table>
      <thead><tr><th>${t("pauses.code")}</th><th>${t("pauses.label")}</th><th>${t("pauses.minutes")}</th><th>${fieldLabel("active")}</th><th></th></tr></thead>
      <tbody>${rows.map((r) => html`<tr data-key=${r.code}><td><code>${r.code}</code></td><td>${r.label}</td><td>${r.max_minutes}</td>
        <td class=${r.active ? "good" : "bad"}>${t(r.active ? "admin.active" : "admin.inactive")}</td>
        <td class="row"><button type="button" class="ghost" onClick=${() => setForm({ ...r, existing: true })}>${t("admin.edit")}</button>
          <button type="button" class="secondary" onClick=${() => save({ code: r.code, active: !r.active },
            t(r.active ? "admin.deactivated" : "admin.saved"))}>${t(r.active ? "admin.deactivate" : "admin.reactivate")}</button></td></tr>`)}</tbody>
    </table></div>
  </div>`;
}
