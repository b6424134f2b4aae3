// What a view shows until its module is written: the way to the classic page.
import { html } from "../lib/ui.js";
import { t } from "../lib/i18n.js";

export function Pending() {
  return html`<div class="card"><p>${t("app.not_ready")}</p>
    <p><a href="/classic.html">${t("app.classic")}</a></p></div>`;
}
export default Pending;
