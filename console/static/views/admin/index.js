// Administration: one tab per kind of record the admin keeps.  The tab is
// in the address (#/admin?tab=lines) so a link opens it.
import "./words.js";
import { html, useState, useEffect } from "../../lib/ui.js";
import { t } from "../../lib/i18n.js";
import { RecordsView } from "./records.js";
import { TEAMS, AGENTS, DEPARTMENTS, LINES } from "./kinds.js";
import { USERS } from "./users.js";
import Rules from "./rules.js";
import Pauses from "./pauses.js";
import Lists from "./lists.js";
import Calendar from "./calendar.js";
import Audit from "./audit.js";

const TABS = [
  ["users", () => html`<${RecordsView} key="users" config=${USERS} />`],
  ["teams", () => html`<${RecordsView} key="teams" config=${TEAMS} />`],
  ["agents", () => html`<${RecordsView} key="agents" config=${AGENTS} />`],
  ["departments", () => html`<${RecordsView} key="departments" config=${DEPARTMENTS} />`],
  ["lines", () => html`<${RecordsView} key="lines" config=${LINES} />`],
  ["rules", () => html`<${Rules} />`],
  ["pauses", () => html`<${Pauses} />`],
  ["lists", () => html`<${Lists} />`],
  ["calendar", () => html`<${Calendar} />`],
  ["audit", () => html`<${Audit} />`],
];

function tabInAddress() {
  const m = /[?&]tab=([a-z]+)/.exec(location.hash);
  return m && TABS.some(([id]) => id === m[1]) ? m[1] : TABS[0][0];
}

export default function Admin() {
  const [tab, setTab] = useState(tabInAddress());
  useEffect(() => {
    const f = () => setTab(tabInAddress());
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  const [, body] = TABS.find(([id]) => id === tab);
  return html`<div data-testid="admin">
    <nav class="row subtabs" style="margin-bottom:8px">
      ${TABS.map(([id]) => html`<a href=${"#/admin?tab=" + id} data-tab=${id}
        class=${"pill" + (id === tab ? " info" : "")}>${t("admin.tab." + id)}</a>`)}
    </nav>
    ${body()}
  </div>`;
}
