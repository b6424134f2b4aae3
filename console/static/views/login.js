// The login form: POST /api/login sets the session cookie.
import { html, useState, Message } from "../lib/ui.js";
import { post } from "../lib/api.js";
import { t } from "../lib/i18n.js";

export default function Login({ onLoggedIn }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      await post("/api/login", { username, password });
      await onLoggedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="login card" onSubmit=${submit}>
    <h2>${t("login.title")}</h2>
    <label class="field"><span>${t("login.username")}</span>
      <input name="username" autocomplete="username" required value=${username}
             onInput=${(e) => setUsername(e.target.value)} /></label>
    <label class="field"><span>${t("login.password")}</span>
      <input name="password" type="password" autocomplete="current-password" required value=${password}
             onInput=${(e) => setPassword(e.target.value)} /></label>
    <div class="row"><button type="submit" disabled=${busy}>${t("login.submit")}</button></div>
    <${Message} error=${error} />
  </form>`;
}
