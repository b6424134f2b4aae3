// Knowledge base on the agent desk: articles suggested from the caller's
// description (in the pop), and a search; "answer with this" links the
// article to the order being written.
import { html, useState, Message } from "../../lib/ui.js";
import { get, query } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";

export function ArticleList({ articles, onUse }) {
  if (!articles || !articles.length) return html`<p class="muted">${t("kb.none")}</p>`;
  return html`<div class="articles">${articles.map((a) => html`<details data-id=${a.id}>
    <summary><b>${a.title}</b> <small class="muted">${a.category || ""}${a.department ? " · " + a.department : ""}</small></summary>
    <p>${a.answer}</p>
    ${a.source ? html`<p><small class="muted">${t("kb.source", { source: a.source })}</small></p>` : ""}
    ${onUse ? html`<button class="ghost" onClick=${() => onUse(a)}>${t("kb.use")}</button>` : ""}
  </details>`)}</div>`;
}

export function KbSearch({ onUse }) {
  const [q, setQ] = useState("");
  const [articles, setArticles] = useState(null);
  const [error, setError] = useState(null);
  async function search(e) {
    e.preventDefault();
    setError(null);
    try { setArticles((await get("/api/kb/articles" + query({ q: q.trim(), limit: 20 }))).articles); }
    catch (err) { setError(err); }
  }
  return html`<div data-testid="kb-search">
    <form class="row" onSubmit=${search}>
      <input value=${q} placeholder=${t("kb.placeholder")} onInput=${(e) => setQ(e.target.value)} style="flex:1;width:auto" />
      <button type="submit">${t("kb.search")}</button>
    </form>
    <${Message} error=${error} />
    ${articles ? html`<${ArticleList} articles=${articles} onUse=${onUse} />` : ""}
  </div>`;
}
