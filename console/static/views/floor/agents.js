// Agents of the shift: state and time in it, today's figures, rota
// adherence, and the supervisor's actions on each (every one audited).
import { html, useState, duration, secondsSince, Message, useLoad } from "../../lib/ui.js";
import { get, post } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";

const ADHERENCE = { ok: "good", not_logged_in: "bad", off_shift: "warn" };

function Actions({ agent, queues, labels, reasons, onClose }) {
  const name = (q) => labels[q] || q;
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [reason, setReason] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [pq, setPq] = useState(agent.queues[0] || "");
  const [penalty, setPenalty] = useState(0);
  const base = `/api/floor/agents/${agent.agent_id}`;
  async function act(path, body, done = t("floor.done")) {
    setError(null); setNotice(null);
    try { await post(path, body); setNotice(done); } catch (err) { setError(err); }
  }
  const spy = (mode) => act(`/api/agents/${agent.agent_id}/supervise`, { mode }, t("floor.ringing_you"));
  const onQueues = agent.state !== "logged_out";
  // Overtime only for one on the queues whom the rota does not hold now: an
  // agent rostered but not logged in works this shift already (refused).
  return html`<div class="agent-actions" data-actions=${agent.agent_id}>
    ${agent.state === "on_call" && html`<div class="row">
      ${["listen", "whisper", "barge"].map((m) => html`<button class="secondary" data-act=${m}
        onClick=${() => spy(m)}>${t(`floor.${m}`)}</button>`)}</div>`}
    ${onQueues && html`<div class="row">
      ${agent.state === "paused"
        ? html`<button data-act="resume" onClick=${() => act(`${base}/pause`, { paused: false })}>${t("floor.resume")}</button>`
        : html`<select aria-label=${t("floor.reason")} value=${reason} onChange=${(e) => setReason(e.target.value)} style="width:auto">
            <option value="">${t("floor.reason")}</option>
            ${reasons.map((r) => html`<option value=${r.code}>${r.label}</option>`)}</select>
          <button data-act="pause" disabled=${!reason} onClick=${() => act(`${base}/pause`, { paused: true, reason })}>${t("floor.force_pause")}</button>`}
      <button class="ghost" data-act="logoff" onClick=${() => act(`${base}/logoff`)}>${t("floor.logoff")}</button></div>
    <div class="row">
      <label>${t("floor.move_from")} <select value=${from} onChange=${(e) => setFrom(e.target.value)} style="width:auto" data-field="from">
        <option value="">${t("floor.none")}</option>${agent.queues.map((q) => html`<option value=${q}>${name(q)}</option>`)}</select></label>
      <label>${t("floor.move_to")} <select value=${to} onChange=${(e) => setTo(e.target.value)} style="width:auto" data-field="to">
        <option value=""></option>${queues.map((q) => html`<option value=${q}>${name(q)}</option>`)}</select></label>
      <button data-act="move" disabled=${!to} onClick=${() => act(`${base}/queues`, { to, from: from || null })}>${t("floor.move")}</button></div>
    <div class="row">
      <select value=${pq} onChange=${(e) => setPq(e.target.value)} style="width:auto" data-field="penalty-queue">
        ${agent.queues.map((q) => html`<option value=${q}>${name(q)}</option>`)}</select>
      <input type="number" min="0" max="99" value=${penalty} style="width:70px" aria-label=${t("floor.penalty")}
        data-field="penalty" onInput=${(e) => setPenalty(Number(e.target.value))} />
      <button data-act="penalty" disabled=${!pq} onClick=${() => act(`${base}/penalty`, { queue: pq, penalty })}>${t("floor.set_penalty")}</button></div>`}
    ${agent.adherence === "off_shift" && html`<div class="row"><button class="ghost" data-act="overtime"
      onClick=${() => act("/api/rota/overtime", { agent_id: agent.agent_id })}>${t("floor.overtime")}</button></div>`}
    <div class="row"><${Message} error=${error} notice=${notice} /><span class="spacer"></span>
      <button class="ghost" onClick=${onClose}>${t("floor.close")}</button></div>
  </div>`;
}

export function Agents({ floor, now }) {
  const [open, setOpen] = useState(null);
  const reasons = useLoad((signal) => get("/api/pause-reasons", { signal }));
  const queues = Object.keys(floor.queues);
  const labels = Object.fromEntries(Object.entries(floor.queues).map(([q, f]) => [q, f.label]));
  const names = Object.fromEntries(((reasons.data && reasons.data.pause_reasons) || []).map((r) => [r.code, r.label]));
  const reasonName = (code) => names[code] || (code === "shift-end" ? t("floor.reason.shift_end") : code);
  return html`<div class="card"><h2>${t("floor.agents")}</h2>
    <table class="floor-agents"><thead><tr>
      <th>${t("floor.agent")}</th><th>${t("floor.state")}</th><th class="num">${t("floor.in_state")}</th>
      <th class="num">${t("floor.calls_today")}</th><th class="num">${t("floor.talk")}</th><th class="num">${t("floor.pause")}</th>
      <th>${t("floor.adherence")}</th><th></th></tr></thead>
    <tbody>${floor.agents.map((a) => html`
      <tr data-agent=${a.agent_id} data-state=${a.state}>
        <td>${a.name}（${a.number}）</td>
        <td><span class="pill">${label("agent_state", a.state)}</span> ${a.state === "paused" ? reasonName(a.reason) : ""}</td>
        <td class="num">${a.since ? duration(secondsSince(a.since, now)) : "–"}</td>
        <td class="num" data-field="calls_today">${a.calls_today}</td>
        <td class="num">${duration(a.talk_seconds)}</td><td class="num">${duration(a.pause_seconds)}</td>
        <td><span class=${"pill " + ADHERENCE[a.adherence]}>${t(`floor.adherence.${a.adherence}`)}</span></td>
        <td><button class="ghost" data-open=${a.agent_id}
          onClick=${() => setOpen(open === a.agent_id ? null : a.agent_id)}>${t("floor.actions")}</button></td></tr>
      ${open === a.agent_id && html`<tr><td colspan="8"><${Actions} agent=${a} queues=${queues} labels=${labels}
        reasons=${(reasons.data && reasons.data.pause_reasons.filter((r) => r.active)) || []}
        onClose=${() => setOpen(null)} /></td></tr>`}`)}</tbody></table>
  </div>`;
}
