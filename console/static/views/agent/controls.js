// Call controls on the agent's own call: hang up, blind transfer to another
// queue, to a department's contact number, or to 110/119/120.
import { html, useState, Message } from "../../lib/ui.js";
import { post } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";

const QUEUES = ["hotline-help", "hotline-complaint", "hotline-report", "hotline-consult",
                "hotline-suggest", "hotline-general"];
const EMERGENCY = ["110", "119", "120"];

export function CallControls({ me, meta, hangupRef }) {
  const [target, setTarget] = useState("");
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const onCall = !!(me && me.call && me.state === "on_call");

  async function run(path, body, done) {
    setError(null); setNotice(null);
    try { await post(path, body); setNotice(done); } catch (err) { setError(err); }
  }
  const hangup = () => run("/api/agent/call/hangup", {}, t("ctl.hung_up"));
  hangupRef.current = me && me.state === "on_call" ? hangup : null;

  function transfer(e) {
    e.preventDefault();
    if (!target) { setError({ code: "missing", field: "to" }); return; }
    const [kind, value] = target.split(":");
    let body;
    if (kind === "queue") body = { to: "queue", queue: value };
    else if (kind === "department") body = { to: "department", department_id: Number(value) };
    else {
      if (!confirm(t("ctl.confirm_emergency", { number: value }))) return;
      body = { to: "emergency", number: value };
    }
    const name = e.target.querySelector("option:checked").textContent;
    run("/api/agent/call/transfer", body, t("ctl.transferred", { target: name }));
  }
  const departments = (meta.departments || []).filter((d) => d.contact_number);

  return html`<div class="card controls" data-testid="call-controls">
    <div class="row">
      <h2>${t("ctl.title")}</h2><span class="spacer"></span>
      <button class="danger" onClick=${hangup} disabled=${!onCall} data-testid="hangup">${t("ctl.hangup")} <kbd>F9</kbd></button>
    </div>
    <form class="row" onSubmit=${transfer}>
      <select value=${target} onChange=${(e) => setTarget(e.target.value)} disabled=${!onCall} aria-label=${t("ctl.transfer")} style="flex:1;width:auto">
        <option value="">${t("ctl.transfer")}…</option>
        <optgroup label=${t("ctl.to_emergency")}>
          ${EMERGENCY.map((n) => html`<option value=${"emergency:" + n}>${t("ctl.emergency_" + n)}</option>`)}</optgroup>
        <optgroup label=${t("ctl.to_queue")}>
          ${QUEUES.map((q) => html`<option value=${"queue:" + q}>${label("queue", q)}</option>`)}</optgroup>
        <optgroup label=${t("ctl.to_department")}>
          ${departments.map((d) => html`<option value=${"department:" + d.id}>${d.name}</option>`)}</optgroup>
      </select>
      <button class="secondary" type="submit" disabled=${!onCall} data-testid="transfer">${t("ctl.transfer")}</button>
    </form>
    ${!onCall ? html`<p class="muted small">${t("ctl.no_call")}</p>` : ""}
    <${Message} error=${error} notice=${notice} />
  </div>`;
}
