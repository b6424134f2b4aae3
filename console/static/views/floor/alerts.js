// Alerts: on screen until a supervisor acknowledges them, and by sound
// (a short tone made in the page: no sound file, no autoplay of media).
import { html, useState, Message, dateTime } from "../../lib/ui.js";
import { post } from "../../lib/api.js";
import { t } from "../../lib/i18n.js";

let audio = null;
/** A two-tone beep; returns false when the browser refused sound. */
export function beep() {
  try {
    audio ||= new AudioContext();
    const at = audio.currentTime;
    for (const [i, freq] of [[0, 880], [1, 660]]) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = freq; gain.gain.value = 0.15;
      osc.connect(gain).connect(audio.destination);
      osc.start(at + i * 0.25); osc.stop(at + i * 0.25 + 0.2);
    }
    return true;
  } catch (err) {
    return false;
  }
}

/** What an alert is about: its key's second part (a queue, an order
 * number, an agent), or for a live staffing alert the agent's name. */
function subject(alert, agents, queues) {
  if (alert.key) {
    const about = alert.key.split(":")[1] || "";
    return (queues[about] && queues[about].label) || about;
  }
  const agent = agents.find((a) => a.agent_id === alert.agent_id);
  return agent ? `${agent.name}（${agent.number}）` : "";
}

export function Alerts({ alerts, agents, queues, sound, setSound, beeps }) {
  const [error, setError] = useState(null);
  async function ack(a) {
    setError(null);
    try { await post("/api/floor/alerts/acknowledge", { source: a.source, id: a.id }); }
    catch (err) { setError(err); }
  }
  return html`<div class="card floor-alerts" data-beeps=${beeps}>
    <div class="row"><h2>${t("floor.alerts")}</h2><span class="spacer"></span>
      <button class="ghost" onClick=${() => { setSound(!sound); if (!sound) beep(); }}>
        ${sound ? t("floor.sound_on") : t("floor.sound_off")}</button></div>
    <${Message} error=${error} />
    ${alerts.length ? html`<ul class="alerts">${alerts.map((a) => html`
      <li class="alert" data-alert=${`${a.source}:${a.id}`}>
        <span class="pill bad">${t(`floor.alert.${a.kind}`)}</span>
        <span class="muted">${dateTime(a.raised_at, { date: false })}</span>
        <span title=${a.detail}> ${subject(a, agents, queues)}</span>
        <button class="ghost" onClick=${() => ack(a)}>${t("floor.ack")}</button></li>`)}</ul>`
      : html`<p class="muted">${t("floor.no_alerts")}</p>`}
  </div>`;
}
