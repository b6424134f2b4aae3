// The agent's own state, always in view: state and time in it, shift and
// team, phone registration, the queues; join/leave, ready/pause.
import { html, useState, useNow, duration, dateTime, Message, useLoad } from "../../lib/ui.js";
import { get, post } from "../../lib/api.js";
import { t, label, lang } from "../../lib/i18n.js";

const STATE_PILL = { available: "good", ready: "good", ringing: "info", on_call: "info",
                     wrap_up: "warn", paused: "warn", logged_out: "" };

export function pauseReasonName(reason) {
  if (!reason) return "";
  const words = label("pause_reason", reason.code || reason);
  if (words !== (reason.code || reason)) return words;
  return (lang() === "zh-CN" && reason.label) || words;
}

function Phone({ phone }) {
  if (!phone) return null;
  const [cls, key] = phone.registered === true ? ["good", "agent.phone_ok"]
    : phone.registered === false ? ["bad", "agent.phone_down"] : ["muted", "agent.phone_unknown"];
  return html`<span class=${"pill " + cls} data-testid="phone" title=${phone.interface || ""}>
    ${t(key)}${phone.interface ? html` · ${phone.interface}` : ""}</span>`;
}

function Shift({ me }) {
  const shift = me.shift;
  const team = me.agent && me.agent.team;
  return html`<span data-testid="shift">
    ${team ? html`<b>${team.name}</b> ` : ""}
    ${shift && shift.on_duty
      ? html`${t("agent.shift", { from: dateTime(shift.starts_at, { date: false }),
                                  to: dateTime(shift.ends_at, { date: false }) })}
             ${shift.granted ? t("agent.granted") : ""}`
      : html`<span class="warn">${t("agent.off_shift")}</span>`}
  </span>`;
}

export function StateBar({ desk, togglePause }) {
  const { me } = desk;
  const now = useNow(1000);
  const reasons = useLoad((signal) => get("/api/pause-reasons", { signal }));
  const [reason, setReason] = useState("break");
  const [error, setError] = useState(null);
  if (!me) return html`<div class="card desk-state"><${Message} error=${desk.error} /></div>`;
  const seconds = Math.max(0, (desk.serverNow() - Date.parse(me.since)) / 1000);
  const inQueues = me.queues && me.queues.length > 0;
  const paused = me.state === "paused";

  async function act(fn) {
    setError(null);
    try { await fn(); await desk.reload(); } catch (err) { setError(err); }
  }
  const join = () => act(() => post("/api/agent/queues/login"));
  const leave = () => act(() => post("/api/agent/queues/logout"));
  const pause = () => act(() => post("/api/agent/pause", { paused: !paused, reason: paused ? "" : reason }));
  togglePause.current = inQueues ? pause : null;
  const list = ((reasons.data && reasons.data.pause_reasons) || []).filter((r) => r.active && r.code !== "callback");
  void now;

  return html`<div class="card desk-state" data-testid="agent-state">
    <div class="row">
      <span class=${"pill big-pill " + (STATE_PILL[me.state] || "")} data-testid="state" data-state=${me.state}>
        ${label("agent_state", me.state)}${paused && me.reason ? html`（${pauseReasonName(me.reason)}）` : ""}
      </span>
      <span class="timer" data-testid="state-timer">${t("agent.in_state", { time: duration(seconds) })}</span>
      ${me.state === "wrap_up" && me.wrapup ? html`
        <span class="warn">${t("agent.wrapup_until", { time: dateTime(me.wrapup.until, { date: false }) })}</span>
        <button class="ghost" onClick=${() => act(() => post("/api/agent/wrapup/end"))}>${t("agent.wrapup_end")}</button>` : ""}
      <span class="spacer"></span>
      <span class="muted">${me.agent ? `${me.agent.name}（${me.agent.number}）` : ""}</span>
      <${Shift} me=${me} />
      <${Phone} phone=${me.phone} />
    </div>
    <div class="row">
      ${inQueues
        ? html`<span class="muted" data-testid="queues">${t("agent.queues", { queues: me.queues.map((q) => label("queue", q)).join(t("agent.list_sep")) })}</span>
               <button class="ghost" onClick=${leave}>${t("agent.leave")}</button>`
        : html`<span class="muted">${t("agent.no_queues")}</span>
               <button onClick=${join} data-testid="join">${t("agent.join")}</button>`}
      ${inQueues && (paused
        ? html`<button onClick=${pause} data-testid="ready">${t("agent.ready")} <kbd>F7</kbd></button>`
        : html`<select aria-label=${t("agent.pause_reason")} value=${reason} onChange=${(e) => setReason(e.target.value)} style="width:auto">
                 ${list.map((r) => html`<option value=${r.code}>${pauseReasonName(r)}</option>`)}
               </select>
               <button class="secondary" onClick=${pause} data-testid="pause">${t("agent.pause")} <kbd>F7</kbd></button>`)}
      <span class="spacer"></span>
      <span class="muted keys">${t("agent.keys")}：<kbd>F7</kbd> ${t("agent.key_ready")} · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> ${t("agent.key_submit")} · <kbd>F9</kbd> ${t("agent.key_hangup")}</span>
    </div>
    <${Message} error=${error} />
  </div>`;
}
