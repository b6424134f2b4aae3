// The supervisors' live floor (班长监控): queues, agents of the shift with
// actions, alerts (on screen and by sound), orders and approvals, trends,
// recent calls and the live events feed.  Everything moves by the live
// feed (floor.* events); nothing here polls.
import "./floor/words.js";
import { html, useState, useEffect, useRef, useNow } from "../lib/ui.js";
import { t } from "../lib/i18n.js";
import { useFloor } from "./floor/state.js";
import { Tiles, Queues } from "./floor/queues.js";
import { Agents } from "./floor/agents.js";
import { Alerts, beep } from "./floor/alerts.js";
import { Orders } from "./floor/orders.js";
import { Trends } from "./floor/trends.js";
import { Calls, Feed } from "./floor/calls.js";
import { Callbacks } from "./floor/callbacks.js";
import { Thresholds } from "./floor/thresholds.js";
import { CalendarCard } from "./calendar/year.js";

export function useStyleSheet(href) {
  useEffect(() => {
    if (document.querySelector(`link[href="${href}"]`)) return;
    const link = document.createElement("link");
    link.rel = "stylesheet"; link.href = href;
    document.head.appendChild(link);
  }, []);
}

export default function Floor() {
  useStyleSheet("/static/views/floor/floor.css");
  const [sound, setSound] = useState(localStorage.getItem("floor-sound") !== "off");
  const [beeps, setBeeps] = useState(0);
  const soundRef = useRef(sound);
  soundRef.current = sound;
  useEffect(() => localStorage.setItem("floor-sound", sound ? "on" : "off"), [sound]);
  const floor = useFloor(() => {
    if (soundRef.current && beep()) setBeeps((n) => n + 1);
  });
  const now = useNow(1000);
  if (!floor) return html`<p class="muted">${t("app.loading")}</p>`;
  return html`<div class="floor">
    <div class="wide card"><${Tiles} floor=${floor} now=${now} /></div>
    <${Queues} floor=${floor} now=${now} />
    <${Alerts} alerts=${floor.alerts} agents=${floor.agents} queues=${floor.queues} sound=${sound} setSound=${setSound} beeps=${beeps} />
    <div class="wide"><${Agents} floor=${floor} now=${now} /></div>
    <${Orders} floor=${floor} />
    <${Trends} trends=${floor.trends} />
    <${Calls} floor=${floor} />
    <div class="wide"><${Callbacks} /></div>
    <${Feed} floor=${floor} />
    <${Thresholds} thresholds=${floor.thresholds} />
    <div class="wide"><${CalendarCard} /></div>
  </div>`;
}
