// The agent desk (坐席工作台): the agent's own state always in view, the
// pop of the current call, the order form with its countdown and the
// confirmation, call controls, and beside them callbacks/回访, the order
// look-up and the knowledge base.  Keyboard: F7 ready/pause, Ctrl+Enter
// submit, F9 hang up.  Laid out for 1366x768.
import "./agent/words.js";
import { html, useState, useEffect, useRef, useLoad, Message } from "../lib/ui.js";
import { get } from "../lib/api.js";
import { t } from "../lib/i18n.js";
import { useDesk } from "./agent/desk.js";
import { StateBar } from "./agent/state_bar.js";
import { Pop } from "./agent/pop.js";
import { OrderForm, Confirmation } from "./agent/order_form.js";
import { CallControls } from "./agent/controls.js";
import { Tasks } from "./agent/tasks.js";
import { Lookup } from "./agent/lookup.js";
import { KbSearch } from "./agent/kb.js";
import { Drafts, popOfDraft } from "./agent/drafts.js";

function useStyleSheet(href) {
  useEffect(() => {
    if (document.querySelector(`link[href="${href}"]`)) return;
    const link = document.createElement("link");
    link.rel = "stylesheet"; link.href = href;
    document.head.appendChild(link);
  }, []);
}

function useShortcuts(keys) {
  const ref = useRef(keys);
  ref.current = keys;
  useEffect(() => {
    function onKey(e) {
      const k = ref.current;
      let fn = null;
      if (e.key === "F7") fn = k.togglePause.current;
      else if (e.key === "F9") fn = k.hangup.current;
      else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) fn = k.submit.current;
      if (!fn) return;
      e.preventDefault();
      fn();
    }
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);
}

function SideTabs({ onUseArticle, onOpenDraft, openDraft }) {
  const [tab, setTab] = useState("tasks");
  const tabs = [["tasks", t("tab.tasks")], ["drafts", t("tab.drafts")], ["lookup", t("tab.lookup")],
                ["kb", t("tab.kb")]];
  return html`<div class="card side">
    <div class="tabs" role="tablist">${tabs.map(([id, name]) => html`
      <button role="tab" class=${"tab" + (tab === id ? " active" : "")} aria-selected=${tab === id}
              onClick=${() => setTab(id)} data-tab=${id}>${name}</button>`)}</div>
    ${tab === "tasks" ? html`<${Tasks} />`
      : tab === "drafts" ? html`<${Drafts} onOpen=${onOpenDraft} current=${openDraft} />`
      : tab === "lookup" ? html`<${Lookup} />` : html`<${KbSearch} onUse=${onUseArticle} />`}
  </div>`;
}

export default function AgentDesk() {
  useStyleSheet("/static/views/agent/agent.css");
  const desk = useDesk();
  const meta = useLoad((signal) => get("/api/order-form", { signal }));
  const [article, setArticle] = useState(null);
  const keys = { togglePause: useRef(null), hangup: useRef(null), submit: useRef(null) };
  useShortcuts(keys);
  const { me, confirmation } = desk;
  // A draft opened from the list, while no call's draft is on screen.
  const [opened, setOpened] = useState(null);
  const callDraft = desk.pop && desk.pop.order && desk.pop.order.status === "draft" && desk.pop.phase === "answered";
  const pop = callDraft || !opened ? desk.pop : opened;
  const draft = pop && pop.order && pop.order.status === "draft" && pop.phase === "answered";
  if (!draft) keys.submit.current = null;
  const popKey = pop && pop.uniqueid;
  useEffect(() => setArticle(null), [popKey]);

  function done(order) {
    desk.setConfirmation({ id: order.id, number: order.number, status: order.status,
                           due_date: order.due_date, no_order_reason: order.no_order_reason });
    if (opened && pop === opened) setOpened(null);
    else desk.setPop(pop ? { ...pop, order: { ...pop.order, status: order.status } } : pop);
    desk.reload();
  }

  return html`<div class="desk">
    <${StateBar} desk=${desk} togglePause=${keys.togglePause} />
    <div class="desk-grid">
      <div class="desk-call">
        ${pop && pop !== opened ? html`<${Pop} key=${popKey} pop=${pop} onUseArticle=${draft ? setArticle : null}
            ended=${!(me && me.call && me.call.uniqueid === pop.uniqueid && ["ringing", "on_call"].includes(me.state))} />`
          : html`<div class="card waiting" data-testid="waiting"><h2>${t("agent.waiting")}</h2>
              <p class="muted">${t("agent.waiting_hint")}</p></div>`}
      </div>
      <div class="desk-main">
        ${confirmation ? html`<${Confirmation} confirmation=${confirmation} onDismiss=${() => desk.setConfirmation(null)} />` : ""}
        ${draft && meta.data ? html`<${OrderForm} key=${pop.order.id} pop=${pop} meta=${meta.data}
            serverNow=${desk.serverNow} submitRef=${keys.submit} onDone=${done}
            chosenArticle=${article} clearArticle=${() => setArticle(null)} />` : ""}
        <${CallControls} me=${me} meta=${meta.data || {}} hangupRef=${keys.hangup} />
        <${Message} error=${meta.error} />
      </div>
      <div class="desk-side">
        <${SideTabs} onUseArticle=${draft ? setArticle : null}
          onOpenDraft=${(o) => { setOpened(popOfDraft(o)); desk.setConfirmation(null); }}
          openDraft=${draft ? pop.order.id : null} />
      </div>
    </div>
  </div>`;
}
