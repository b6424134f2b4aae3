// The department-suggestion rules (admins edit, supervisors read): one rule
// per line of the table; saving makes a new version (audited), refused with
// every problem named when a rule is wrong.
import { html, useState, useEffect, useLoad, Message, dateTime } from "../../lib/ui.js";
import { get, put } from "../../lib/api.js";
import { t, label, messages } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "rules.title": "派单建议规则", "rules.version": "第 {n} 版，{at}",
    "rules.department": "承办单位", "rules.categories": "类别（不选为不限）",
    "rules.districts": "区县（不选为不限）", "rules.keywords": "关键词（顿号分隔）",
    "rules.add": "增加一条", "rules.remove": "删除", "rules.save": "保存为新版本",
    "rules.saved": "已保存为第 {n} 版", "rules.problems": "规则有以下问题：",
  },
  en: {
    "rules.title": "Department suggestion rules", "rules.version": "Version {n}, {at}",
    "rules.department": "Department", "rules.categories": "Categories (none: any)",
    "rules.districts": "Districts (none: any)", "rules.keywords": "Keywords (separated by 、)",
    "rules.add": "Add a rule", "rules.remove": "Remove", "rules.save": "Save as a new version",
    "rules.saved": "Saved as version {n}", "rules.problems": "The rules have these problems:",
  },
});

const CATEGORIES = ["help", "complaint", "report", "consult", "suggest"];
const picked = (e) => [...e.target.selectedOptions].map((o) => o.value);

export function Rules({ me }) {
  const admin = me.role === "admin";
  const loaded = useLoad((signal) => get("/api/department-rules", { signal }));
  const depts = useLoad((signal) => get("/api/departments", { signal }));
  const districts = useLoad((signal) => get("/api/districts", { signal }));
  const [rules, setRules] = useState([]);
  const [msg, setMsg] = useState(null);
  useEffect(() => { if (loaded.data) setRules(loaded.data.rules); }, [loaded.data]);
  const change = (i, key, value) => setRules(rules.map((r, j) => {
    if (j !== i) return r;
    const next = { ...r, [key]: value };
    if (Array.isArray(value) && !value.length) delete next[key];
    return next;
  }));
  const save = async () => {
    try {
      const saved = await put("/api/department-rules", { rules });
      setMsg({ notice: t("rules.saved", { n: saved.version }) });
      loaded.reload();
    } catch (err) { setMsg(err); }
  };
  const list = depts.data ? depts.data.departments : [];
  const places = districts.data ? districts.data.districts : [];
  const problems = msg && msg.body && msg.body.error && msg.body.error.problems;
  return html`<div class="card" data-part="rules"><h2>${t("rules.title")}</h2>
    ${loaded.data && loaded.data.version ? html`<p class="muted">${t("rules.version", { n: loaded.data.version, at: dateTime(loaded.data.created_at) })}</p>` : null}
    <table><thead><tr><th>${t("rules.department")}</th><th>${t("rules.categories")}</th>
      <th>${t("rules.districts")}</th><th>${t("rules.keywords")}</th><th></th></tr></thead>
      <tbody>${rules.map((r, i) => html`<tr data-rule=${i}>
        <td><select disabled=${!admin} value=${r.department} onChange=${(e) => change(i, "department", e.target.value)}>
          ${list.map((d) => html`<option value=${d.code}>${d.name}</option>`)}</select></td>
        <td><select multiple size="3" disabled=${!admin} onChange=${(e) => change(i, "categories", picked(e))}>
          ${CATEGORIES.map((c) => html`<option value=${c} selected=${(r.categories || []).includes(c)}>${label("category", c)}</option>`)}</select></td>
        <td><select multiple size="3" disabled=${!admin} onChange=${(e) => change(i, "districts", picked(e))}>
          ${places.map((d) => html`<option value=${d.code} selected=${(r.districts || []).includes(d.code)}>${d.name}</option>`)}</select></td>
        <td><input disabled=${!admin} value=${(r.keywords || []).join("、")}
          onChange=${(e) => change(i, "keywords", e.target.value.split(/[、,，\s]+/).filter(Boolean))} /></td>
        <td>${admin ? html`<button onClick=${() => setRules(rules.filter((_, j) => j !== i))}>${t("rules.remove")}</button>` : null}</td>
      </tr>`)}</tbody></table>
    ${admin ? html`<div class="row">
      <button data-add onClick=${() => setRules([...rules, { department: list[0] ? list[0].code : "", keywords: [] }])}>${t("rules.add")}</button>
      <button data-save onClick=${save}>${t("rules.save")}</button></div>` : null}
    ${problems ? html`<div class="msg bad" role="alert">${t("rules.problems")}<ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>`
      : msg && msg.notice ? html`<${Message} notice=${msg.notice} />` : html`<${Message} error=${msg} />`}
  </div>`;
}
