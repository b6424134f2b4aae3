// The console's shell: who is logged in, the tabs their role may open, the
// language switch, the live connection's banner, and the open view.
import "./i18n/common.js";
import { html, render, useState, useEffect } from "./lib/ui.js";
import { get, post, onLoggedOut } from "./lib/api.js";
import { t, label, lang, setLang, onLangChange } from "./lib/i18n.js";
import * as live from "./lib/live.js";
import { viewsFor, linksFor } from "./views/index.js";
import Login from "./views/login.js";

function currentRoute() { return location.hash.replace(/^#\/?/, "").split("?")[0]; }

function LiveBanner() {
  const [status, setStatus] = useState({ connected: true, reason: "" });
  const [everConnected, setEver] = useState(false);
  useEffect(() => live.onStatus((s) => { setStatus(s); if (s.connected) setEver(true); }), []);
  if (status.connected || !everConnected) return null;
  const why = status.reason ? `（${status.reason}）` : "";
  return html`<div class="banner bad" role="alert" data-testid="live-banner">${t("live.lost", { why })}</div>`;
}

function ViewHost({ view, me }) {
  const [mod, setMod] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let gone = false;
    setMod(null); setError(null);
    view.load().then((m) => { if (!gone) setMod(() => m.default); }, (err) => { if (!gone) setError(err); });
    return () => { gone = true; };
  }, [view.id]);
  if (error) return html`<p class="bad">${t("error.unknown", { code: view.id })}</p>`;
  if (!mod) return html`<p class="muted">${t("app.loading")}</p>`;
  const View = mod;
  return html`<${View} me=${me} />`;
}

function Shell({ me, onLogout }) {
  const views = viewsFor(me.role);
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const f = () => setRoute(currentRoute());
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  const view = views.find((v) => v.id === route) || views[0];
  if (!view) return html`<p class="bad">${t("error.forbidden")}</p>`;
  if (view.bare) return html`<${LiveBanner} /><${ViewHost} view=${view} me=${me} />`;
  return html`
    <header class="top">
      <h1>${t("app.title")}</h1>
      <nav>
        ${views.map((v) => html`<a href=${"#/" + v.id} class=${v === view ? "active" : ""}>${t(v.nav)}</a>`)}
        ${linksFor(me.role).map((l) => html`<a href=${l.href}>${t(l.nav)}</a>`)}
      </nav>
      <span class="who">${me.display_name}（${label("role", me.role)}）</span>
      <button class="link" onClick=${() => setLang(lang() === "zh-CN" ? "en" : "zh-CN")}>${t("app.lang_switch")}</button>
      <button class="link" onClick=${onLogout}>${t("app.logout")}</button>
    </header>
    <${LiveBanner} />
    <main class="view" data-view=${view.id}><${ViewHost} view=${view} me=${me} /></main>`;
}

function App() {
  const [me, setMe] = useState(undefined);
  const [, setLangTick] = useState(lang());
  async function loadMe() {
    try {
      const { user } = await get("/api/session");
      setMe(user);
      if (user) live.connect();
    } catch {
      setMe(null);
    }
  }
  async function logout() {
    try { await post("/api/logout"); } finally { live.disconnect(); setMe(null); }
  }
  useEffect(() => {
    loadMe();
    const offLang = onLangChange((l) => { document.title = t("app.title"); setLangTick(l); });
    const offAuth = onLoggedOut(() => { live.disconnect(); setMe(null); });
    return () => { offLang(); offAuth(); };
  }, []);
  document.documentElement.lang = lang();
  document.title = t("app.title");
  if (me === undefined) return html`<p class="boot">${t("app.loading")}</p>`;
  if (me === null) return html`<${Login} onLoggedIn=${loadMe} />`;
  // A language switch re-renders App, and so every view, with its new words
  // (views keep their state: a half-filled order form survives it).
  return html`<${Shell} me=${me} onLogout=${logout} />`;
}

render(html`<${App} />`, document.getElementById("root"));
