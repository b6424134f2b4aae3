// Recent calls (loaded once, then kept by the call events) with their
// recordings, and the live events feed.  Ported from the old page's
// calls panel and feed.
import { html, useState, useLoad, useLiveEvent, dateTime } from "../../lib/ui.js";
import { get } from "../../lib/api.js";
import { t, label, has } from "../../lib/i18n.js";

const FEED_MAX = 30;
const CALLS_MAX = 15;
const CALL_EVENTS = new Set(["call.entered", "call.routed", "call.queued", "call.answered",
                             "call.abandoned", "call.ended"]);

function applyCall(rows, e) {
  const i = rows.findIndex((c) => c.uniqueid === e.uniqueid);
  const row = i >= 0 ? { ...rows[i] } : { uniqueid: e.uniqueid, caller_number: e.caller || "", outcome: "in_ivr" };
  if (e.type === "call.routed") Object.assign(row, { queue: e.queue, category: e.category });
  if (e.type === "call.queued") Object.assign(row, { queue: e.queue, outcome: "queued" });
  if (e.type === "call.answered") Object.assign(row, { outcome: "answered", member_name: e.member });
  if (e.type === "call.abandoned") row.outcome = "abandoned";
  if (e.type === "call.ended" && row.outcome !== "answered" && row.outcome !== "abandoned") row.outcome = e.outcome;
  if (e.type === "call.ended" && e.outcome === "answered") row.ended = true;
  const rest = rows.filter((c) => c.uniqueid !== e.uniqueid);
  return i >= 0 ? rows.map((c) => (c.uniqueid === e.uniqueid ? row : c)) : [row, ...rest].slice(0, CALLS_MAX);
}

export function Calls({ floor }) {
  const who = (member) => { const a = floor.agents.find((x) => x.member && x.member === member); return a ? a.name : (member ? "—" : "–"); };
  const queue = (q) => (floor.queues[q] && floor.queues[q].label) || (q ? "—" : "–");
  const loaded = useLoad((signal) => get(`/api/calls?limit=${CALLS_MAX}`, { signal }));
  const [live, setLive] = useState(null);
  const rows = live || (loaded.data && loaded.data.calls) || [];
  const [playing, setPlaying] = useState(null);
  useLiveEvent("*", (e) => {
    if (CALL_EVENTS.has(e.type)) setLive((cur) => applyCall(cur || (loaded.data && loaded.data.calls) || [], e));
  });
  return html`<div class="card"><h2>${t("floor.calls")}</h2>
    <table class="floor-calls"><thead><tr><th>${t("floor.caller")}</th><th>${t("floor.queue")}</th><th>${t("floor.outcome")}</th>
      <th>${t("floor.agent")}</th><th></th></tr></thead>
    <tbody>${rows.map((c) => html`<tr data-call=${c.uniqueid}>
      <td>${c.caller_number}</td><td>${queue(c.queue)}</td>
      <td class=${c.outcome === "answered" ? "good" : c.outcome === "abandoned" ? "bad" : ""}>${label("outcome", c.outcome)}</td>
      <td>${who(c.member_name)}</td>
      <td>${c.outcome === "answered" && html`<button class="ghost" data-play=${c.uniqueid}
        onClick=${() => setPlaying(c.uniqueid)}>${t("floor.play")}</button>`}</td></tr>
      ${playing === c.uniqueid && html`<tr><td colspan="5"><audio controls autoplay
        src=${`/api/calls/${encodeURIComponent(c.uniqueid)}/recording`}></audio></td></tr>`}`)}</tbody></table>
  </div>`;
}

function describe(e, floor) {
  if (e.queue && floor.queues[e.queue]) return floor.queues[e.queue].label;
  const agent = floor.agents.find((a) => a.agent_id === e.agent_id || (e.member && a.member === e.member));
  if (agent) return agent.name;
  return e.number || e.caller || "";
}

export function Feed({ floor }) {
  const [events, setEvents] = useState([]);
  useLiveEvent("*", (e) => {
    if (!has(`feed.${e.type}`)) return;  // figures and views' own events are not news
    setEvents((cur) => [{ seq: e.seq, type: e.type, at: new Date().toISOString(),
                          what: describe(e, floor) }, ...cur].slice(0, FEED_MAX));
  });
  return html`<div class="card"><h2>${t("floor.feed")}</h2>
    <ul class="feed">${events.map((e) => html`<li key=${e.seq} data-feed=${e.type}>
      <span class="muted">${dateTime(e.at, { date: false })}</span> ${t(`feed.${e.type}`)} ${e.what}</li>`)}</ul></div>`;
}
