// The knowledge base (知识库), ported from the classic page's kb.js: search
// (segmented Chinese, best first) by words and category; supervisors and
// admins write and edit articles, each save a version with its history;
// the expired articles are listed for their owners (a department its own).
import { html, useState, useLoad, Message } from "../lib/ui.js";
import { get, query } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import "./knowledge/words.js";
import { Editor } from "./knowledge/editor.js";

function Article({ a, canEdit, edit }) {
  return html`<details data-article=${a.id}><summary><b>${a.title}</b>
      <span class="muted"> ${a.category} · ${a.department || "–"}
      ${a.valid_until ? ` · ${t("kb.valid_until", { date: a.valid_until })}` : ""}</span>
      ${a.expired ? html` <span class="pill bad">${t("kb.expired")}</span>` : null}
      ${a.active ? null : html` <span class="pill">${t("kb.inactive")}</span>`}</summary>
    <p>${a.answer}</p>
    <p class="muted">${t("kb.source", { source: a.source || "–" })} · ${t("kb.keywords", { words: (a.keywords || []).join("、") })} · ${t("kb.version", { n: a.version })}</p>
    ${canEdit ? html`<button data-edit=${a.id} onClick=${() => edit(a.id)}>${t("kb.edit")}</button>` : null}
  </details>`;
}

function Expired({ me, canEdit, edit, tick }) {
  const [all, setAll] = useState(false);
  const { data, error } = useLoad((signal) => get(`/api/kb/expired${all ? "?all=1" : ""}`, { signal }), [all, tick]);
  const rows = data ? data.articles : [];
  return html`<div class="card" data-part="kb-expired"><h3>${t("kb.expired_title")}</h3>
    ${me.role === "supervisor" ? html`<label><input type="checkbox" checked=${all} onChange=${(e) => setAll(e.target.checked)} /> ${t("kb.expired_all")}</label>` : null}
    <${Message} error=${error} />
    ${rows.length ? html`<p class="muted">${t("kb.expired_help")}</p>` : null}
    ${rows.map((a) => html`<${Article} key=${a.id} a=${a} canEdit=${canEdit} edit=${edit} />`)}
    ${data && !rows.length ? html`<p class="muted">${t("kb.none")}</p>` : null}
  </div>`;
}

export default function Knowledge({ me }) {
  const canEdit = ["supervisor", "admin"].includes(me.role);
  const [q, setQ] = useState("");
  const [category, setCategory] = useState("");
  const [hidden, setHidden] = useState(false);
  const [asked, setAsked] = useState({ q: "", category: "", hidden: false });
  const [editing, setEditing] = useState(undefined);  // undefined: closed; null: new
  const [tick, setTick] = useState(0);
  const cats = useLoad((signal) => get("/api/kb/categories", { signal }));
  const depts = useLoad((signal) => get("/api/departments", { signal }));
  const found = useLoad((signal) => get("/api/kb/articles" + query({
    q: asked.q, category: asked.category, include_hidden: asked.hidden ? "1" : "", limit: 20,
  }), { signal }), [asked, tick]);
  const categories = cats.data ? cats.data.categories : [];
  const search = (e) => { e.preventDefault(); setAsked({ q: q.trim(), category, hidden }); };
  const saved = () => setTick((n) => n + 1);
  return html`<div>
    <form class="card row" data-part="kb-search" onSubmit=${search}>
      <h2>${t("kb.title")}</h2>
      <input name="q" placeholder=${t("kb.query")} value=${q} onInput=${(e) => setQ(e.target.value)} />
      <select name="category" value=${category} onChange=${(e) => { setCategory(e.target.value); setAsked({ q: q.trim(), category: e.target.value, hidden }); }}>
        <option value="">${t("kb.all_categories")}</option>
        ${categories.map((c) => html`<option value=${c}>${c}</option>`)}</select>
      ${canEdit ? html`<label><input type="checkbox" checked=${hidden} onChange=${(e) => setHidden(e.target.checked)} /> ${t("kb.include_hidden")}</label>` : null}
      <button type="submit">${t("kb.search")}</button>
      ${canEdit ? html`<button type="button" data-new onClick=${() => setEditing(null)}>${t("kb.new")}</button>` : null}
    </form>
    ${editing !== undefined ? html`<${Editor} id=${editing} categories=${categories}
        departments=${depts.data ? depts.data.departments : []} onSaved=${(id) => { setEditing(id); saved(); }}
        onClose=${() => setEditing(undefined)} />` : null}
    <div class="card" data-part="kb-results">
      <${Message} error=${found.error} />
      ${found.data && asked.q ? html`<p class="muted" data-terms>${t("kb.terms", { terms: (found.data.terms || []).join(" / ") || "–" })}</p>` : null}
      ${(found.data ? found.data.articles : []).map((a) => html`<${Article} key=${a.id} a=${a} canEdit=${canEdit} edit=${setEditing} />`)}
      ${found.data && !found.data.articles.length ? html`<p class="muted">${t("kb.none")}</p>` : null}
    </div>
    ${canEdit || me.role === "department" ? html`<${Expired} me=${me} canEdit=${canEdit} edit=${setEditing} tick=${tick} />` : null}
  </div>`;
}
