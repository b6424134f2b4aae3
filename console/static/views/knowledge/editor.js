// The article editor (supervisors and admins): every save is the next
// version; a save over someone else's newer version is refused (stale).
import { html, useState, useEffect, Message, dateTime } from "../../lib/ui.js";
import { get, post, put } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";

const EMPTY = { category: "", title: "", answer: "", department: "", source: "",
  valid_until: "", keywords: "", active: true, note: "" };

export function Editor({ id, categories, departments, onSaved, onClose }) {
  const [form, setForm] = useState({ ...EMPTY, category: categories[0] || "" });
  const [loaded, setLoaded] = useState(null);
  const [msg, setMsg] = useState(null);
  const load = (articleId) => get(`/api/kb/articles/${articleId}`).then((a) => {
    setLoaded(a);
    setForm({ category: a.category, title: a.title, answer: a.answer,
      department: a.department_id ?? "", source: a.source || "", valid_until: a.valid_until || "",
      keywords: (a.keywords || []).join("、"), active: a.active, note: "" });
  }, setMsg);
  useEffect(() => {
    if (id == null) { setLoaded(null); setForm({ ...EMPTY, category: categories[0] || "" }); return; }
    // Just saved here (a new article gets its id): loaded already. Loading it
    // again would land late and overwrite what the user typed meanwhile.
    if (loaded && loaded.id === id) return;
    load(id);
  }, [id]);
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const save = async (e) => {
    e.preventDefault();
    const body = { category: form.category, title: form.title, answer: form.answer,
      department: form.department === "" ? null : Number(form.department), source: form.source,
      valid_until: form.valid_until || null, keywords: form.keywords, active: form.active };
    try {
      const saved = loaded
        ? await put(`/api/kb/articles/${loaded.id}`, { ...body, version: loaded.version, note: form.note })
        : await post("/api/kb/articles", body);
      await load(saved.id);  // the new version and its history
      setMsg({ notice: t("kb.saved", { n: saved.version }) });
      onSaved(saved.id);
    } catch (err) { setMsg(err); }
  };
  return html`<form class="card" data-part="kb-editor" onSubmit=${save}>
    <h3>${loaded ? t("kb.editing", { n: loaded.version }) : t("kb.creating")}</h3>
    <label>${t("kb.f.category")}<select name="category" value=${form.category} onChange=${set("category")}>
      ${categories.map((c) => html`<option value=${c}>${c}</option>`)}</select></label>
    <label>${t("kb.f.title")}<input name="title" value=${form.title} onInput=${set("title")} required /></label>
    <label>${t("kb.f.answer")}<textarea name="answer" rows="5" value=${form.answer} onInput=${set("answer")} required></textarea></label>
    <label>${t("kb.f.department")}<select name="department" value=${form.department} onChange=${set("department")}>
      <option value="">${t("kb.no_department")}</option>
      ${departments.map((d) => html`<option value=${d.id}>${d.name}</option>`)}</select></label>
    <label>${t("kb.f.source")}<input name="source" value=${form.source} onInput=${set("source")} /></label>
    <label>${t("kb.f.valid_until")}<input name="valid_until" type="date" value=${form.valid_until} onInput=${set("valid_until")} /></label>
    <label>${t("kb.f.keywords")}<input name="keywords" value=${form.keywords} onInput=${set("keywords")} /></label>
    <label><input type="checkbox" name="active" checked=${form.active} onChange=${set("active")} /> ${t("kb.f.active")}</label>
    ${loaded ? html`<label>${t("kb.f.note")}<input name="note" value=${form.note} onInput=${set("note")} /></label>` : null}
    <div class="row"><button type="submit">${t("kb.save")}</button>
      <button type="button" onClick=${onClose}>${t("kb.close")}</button></div>
    ${msg && msg.notice ? html`<${Message} notice=${msg.notice} />` : html`<${Message} error=${msg} />`}
    ${loaded && loaded.history ? html`<h3>${t("kb.history")}</h3><ul data-part="kb-history">
      ${loaded.history.map((v) => html`<li>${t("kb.version", { n: v.version })} · ${dateTime(v.edited_at)} · ${v.title}</li>`)}</ul>` : null}
  </form>`;
}
