// One administered kind of record (teams, agents, departments, lines):
// its list, a form to create or change one, deactivation, and the import
// of a CSV or XLSX file.  Each kind module passes a config:
//   { id, api, key, singular, columns: [{name, cell(row, refs)}],
//     fields: [{name, type: "text"|"number"|"select"|"checkbox", choices(refs)}],
//     refs(signal) -> Promise<object> (lists the selects choose from), importable,
//     deactivate(row) / reactivate(row) (default: the admin API's own),
//     actions: [{ words, run(row) -> Promise<notice words> }] (more buttons per row) }
import { html, useState, useLoad, Message } from "../../lib/ui.js";
import { get, post, patch } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";
import { fieldLabel, problemText, problemsOf } from "./words.js";

const FILE_TYPES = {
  csv: "text/csv",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};

function blank(config) {
  return Object.fromEntries(config.fields.map((f) => [f.name, f.type === "checkbox" ? true : ""]));
}

function valuesOf(config, row) {
  return Object.fromEntries(config.fields.map((f) => [f.name, f.value ? f.value(row) : row[f.name] ?? ""]));
}

function Field({ field, value, problems, refs, row, onChange, disabled }) {
  const mine = problems.filter((p) => p.field === field.name);
  const cls = "field" + (mine.length ? " invalid" : "");
  let input;
  if (field.type === "select") {
    const choices = field.choices(refs || {}, row);
    input = html`<select name=${field.name} value=${value ?? ""} disabled=${disabled}
        onChange=${(e) => onChange(e.target.value)}>
      <option value="">–</option>
      ${choices.map(([v, words]) => html`<option value=${v}>${words}</option>`)}
    </select>`;
  } else if (field.type === "checkbox") {
    input = html`<input type="checkbox" name=${field.name} checked=${!!value}
        onChange=${(e) => onChange(e.target.checked)} />`;
  } else {
    input = html`<input name=${field.name} type=${field.type === "number" ? "number" : "text"}
        value=${value ?? ""} disabled=${disabled} onInput=${(e) => onChange(e.target.value)} />`;
  }
  return html`<label class=${cls}><span>${fieldLabel(field.name)}</span>${input}
    ${mine.map((p) => html`<small class="bad">${problemText(p)}</small>`)}</label>`;
}

/** The body to send: numbers as numbers, empty optional selects as null. */
function body(config, values, row) {
  const out = {};
  for (const f of config.fields) {
    if (f.createOnly && row) continue;
    let v = values[f.name];
    if (f.type === "number" && v !== "") v = Number(v);
    if (f.type === "select" && v === "") v = null;
    if (row) {
      const before = f.value ? f.value(row) : row[f.name];
      if ((before ?? null) === v || (before ?? "") === v) continue;
    } else if (v === "" || v === null) continue;
    out[f.name] = v;
  }
  return out;
}

function RecordForm({ config, row, refs, onDone, onCancel }) {
  const [values, setValues] = useState(row ? valuesOf(config, row) : blank(config));
  const [error, setError] = useState(null);
  const problems = problemsOf(error);
  async function submit(e) {
    e.preventDefault();
    setError(null);
    try {
      const saved = row ? await patch(`${config.api}/${row.id}`, body(config, values, row))
        : await post(config.api, body(config, values, null));
      onDone(saved);
    } catch (err) { setError(err); }
  }
  return html`<form class="card" data-testid=${"form-" + config.id} onSubmit=${submit}>
    <h3>${row ? `${t("admin.edit")} ${row[config.key]}` : t("admin.new")}</h3>
    <div class="grid">
      ${config.fields.filter((f) => (f.type !== "checkbox" || row) && !(f.createOnly && row)).map((f) => html`<${Field}
        field=${f} value=${values[f.name]} problems=${problems} refs=${refs} row=${row}
        disabled=${row && f.fixed} onChange=${(v) => setValues({ ...values, [f.name]: v })} />`)}
    </div>
    ${error && !problems.length ? html`<${Message} error=${error} />` : null}
    <div class="row"><button type="submit">${t("admin.save")}</button>
      <button type="button" class="ghost" onClick=${onCancel}>${t("admin.cancel")}</button></div>
  </form>`;
}

function Importer({ config, onDone }) {
  const [file, setFile] = useState(null);
  const [dry, setDry] = useState(false);
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  async function send() {
    if (!file) return;
    setReport(null); setError(null);
    const ext = file.name.toLowerCase().split(".").pop();
    const type = FILE_TYPES[ext];
    if (!type) { setError({ code: "bad_content_type" }); return; }
    const response = await fetch(`/api/admin/import/${config.id}${dry ? "?dry_run=1" : ""}`, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": type }, body: file,
    });
    const data = await response.json();
    if (data.error) { setError(data.error); return; }
    setReport(data);
    if (data.imported) onDone();
  }
  const bad = report ? new Set(report.problems.map((p) => p.line)).size : 0;
  return html`<div class="card" data-testid=${"import-" + config.id}>
    <h3>${t("admin.import")}</h3><p class="muted">${t("admin.import_hint")}
      ${t("admin.import_columns")}<code>${config.fields.map((f) => f.name).filter((n) => n !== "active").join(", ")}</code></p>
    <div class="row">
      <input type="file" name="file" accept=".csv,.xlsx" style="width:auto"
        onChange=${(e) => setFile(e.target.files[0] || null)} />
      <label><input type="checkbox" checked=${dry} onChange=${(e) => setDry(e.target.checked)} /> ${t("admin.dry_run")}</label>
      <button type="button" disabled=${!file} onClick=${send}>${t("admin.import")}</button>
    </div>
    <${Message} error=${error} />
    ${report && report.ok ? html`<p class="msg good" role="status">${t(report.dry_run ? "admin.import_checked" : "admin.import_ok", report)}</p>` : null}
    ${report && !report.ok ? html`<div class="bad" role="alert"><p>${t("admin.import_bad", { bad })}</p><ul>
      ${report.problems.map((p) => html`<li>${t("admin.line", { line: p.line })}：${problemText(p)}</li>`)}</ul></div>` : null}
  </div>`;
}

export function RecordsView({ config }) {
  const list = useLoad((signal) => get(config.api, { signal }));
  const refs = useLoad((signal) => (config.refs ? config.refs(signal) : Promise.resolve({})));
  const [editing, setEditing] = useState(null); // null, "new" or a row
  const [notice, setNotice] = useState(null);
  const [error, setError] = useState(null);
  const [showAll, setShowAll] = useState(false);
  const rows = (list.data && list.data[config.id]) || [];
  const shown = showAll ? rows : rows.filter((r) => r.active);
  function done(words) { setEditing(null); setNotice(words); setError(null); list.reload(); refs.reload(); }
  async function act(run) {
    setNotice(null); setError(null);
    try { done(await run()); } catch (err) { setError(err); }
  }
  function setActive(row, active) {
    if (!active && !confirm(t("admin.confirm_deactivate", { name: row[config.key] }))) return;
    act(async () => {
      if (active) await (config.reactivate ? config.reactivate(row) : patch(`${config.api}/${row.id}`, { active: true }));
      else await (config.deactivate ? config.deactivate(row) : post(`${config.api}/${row.id}/deactivate`));
      return t(active ? "admin.saved" : "admin.deactivated");
    });
  }
  return html`<div data-testid=${"records-" + config.id}>
    <div class="row">
      <button type="button" onClick=${() => { setEditing("new"); setNotice(null); }}>${t("admin.new")}</button>
      <label><input type="checkbox" checked=${showAll} onChange=${(e) => setShowAll(e.target.checked)} /> ${t("admin.show_inactive")}</label>
      <span class="spacer"></span><span class="muted">${t("admin.count", { n: shown.length })}</span>
    </div>
    <${Message} error=${error && !problemsOf(error).length ? error : list.error} notice=${notice} />
    ${problemsOf(error).map((p) => html`<p class="msg bad" role="alert">${problemText(p)}</p>`)}
    ${editing ? html`<${RecordForm} key=${editing === "new" ? "new" : editing.id} config=${config}
        row=${editing === "new" ? null : editing} refs=${refs.data}
        onDone=${(saved) => done(saved && saved.password ? t("admin.new_password", { password: saved.password })
          : t("admin.saved"))} onCancel=${() => setEditing(null)} />` : null}
    <div class="card"><table>
      <thead><tr>${config.columns.map((c) => html`<th>${fieldLabel(c.name)}</th>`)}<th>${fieldLabel("active")}</th><th></th></tr></thead>
      <tbody>${shown.map((row) => html`<tr data-key=${row[config.key]}>
        ${config.columns.map((c) => html`<td>${c.cell ? c.cell(row, refs.data || {}) : row[c.name] ?? "–"}</td>`)}
        <td class=${row.active ? "good" : "bad"}>${t(row.active ? "admin.active" : "admin.inactive")}</td>
        <td class="row">
          <button type="button" class="ghost" onClick=${() => { setEditing(row); setNotice(null); }}>${t("admin.edit")}</button>
          ${row.active ? html`<button type="button" class="secondary" onClick=${() => setActive(row, false)}>${t("admin.deactivate")}</button>`
            : html`<button type="button" class="secondary" onClick=${() => setActive(row, true)}>${t("admin.reactivate")}</button>`}
          ${(config.actions || []).map((a) => html`<button type="button" class="ghost"
            onClick=${() => act(() => a.run(row))}>${a.words()}</button>`)}
        </td></tr>`)}</tbody>
    </table></div>
    ${config.importable ? html`<${Importer} config=${config} onDone=${() => done(null)} />` : null}
  </div>`;
}
