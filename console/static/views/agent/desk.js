// The agent desk's live data: the agent's own state ("me") and the pop of
// their current call, from the REST API once, then from the live feed
// (agent.me, call.pop, transcript.ready), again after a reconnect's snapshot
// and after a resync.  The server's clock is followed through the offset
// seen in each "me" (since + seconds_in_state), so timers are right even
// when this computer's clock is not.
import { useState, useEffect, useRef, useLiveEvent } from "../../lib/ui.js";
import { get, post } from "../../lib/api.js";
import * as live from "../../lib/live.js";

const CONFIRMATION = "hotline.agent.confirmation";

/** Milliseconds to add to Date.now() to get the server's time. */
function skewOf(me) {
  if (!me || !me.since || me.seconds_in_state == null) return 0;
  return Date.parse(me.since) + me.seconds_in_state * 1000 - Date.now();
}

export function useDesk() {
  const [me, setMeState] = useState(null);
  const [pop, setPop] = useState(null);
  const [error, setError] = useState(null);
  const [confirmation, setConfirmationState] = useState(() => {
    try { return JSON.parse(sessionStorage.getItem(CONFIRMATION)) || null; } catch { return null; }
  });
  const skew = useRef(0);
  const popRef = useRef(null);
  popRef.current = pop;

  function setMe(next) {
    if (!next) return;
    skew.current = skewOf(next);
    setMeState(next);
  }
  function setConfirmation(c) {
    setConfirmationState(c);
    if (c) sessionStorage.setItem(CONFIRMATION, JSON.stringify(c));
    else sessionStorage.removeItem(CONFIRMATION);
  }

  async function reload() {
    try {
      const [m, p] = await Promise.all([get("/api/agent/me"), get("/api/agent/pop")]);
      setMe(m);
      setPop(p.pop || null);
      setError(null);
    } catch (err) { setError(err); }
  }

  useEffect(() => {
    reload();
    const offSnap = live.onSnapshot((state) => { if (state && state.me) setMe(state.me); });
    const offResync = live.onResync(reload);
    return () => { offSnap(); offResync(); };
  }, []);

  useLiveEvent("agent.me", (ev) => setMe(ev.me));
  useLiveEvent("call.pop", (ev) => {
    const receivedMs = Date.now();
    const next = ev.pop;
    // A new call: the previous confirmation has been read.
    if (!popRef.current || popRef.current.uniqueid !== next.uniqueid) setConfirmation(null);
    setPop(next);
    if (ev.ami_read_ms) drawn(ev, receivedMs);
  });
  useLiveEvent("transcript.ready", (ev) => {
    const current = popRef.current;
    if (!current || ev.kind !== "description" || !ev.text) return;
    if (ev.uniqueid !== current.uniqueid && ev.call_id !== current.call_id) return;
    setPop({ ...current, transcript: { transcript_id: ev.transcript_id, text: ev.text, final: ev.final } });
    // Knowledge-base articles for what the caller said.
    post("/api/kb/suggest", { text: ev.text, limit: 5 }).then((r) => {
      const now = popRef.current;
      if (now && now.uniqueid === current.uniqueid) setPop({ ...now, kb_suggestions: r.articles || [] });
    }, () => {});
  });

  return {
    me, pop, error, reload, confirmation, setConfirmation,
    setMe, setPop,
    serverNow: () => Date.now() + skew.current,
  };
}

// The benchmark's far end (bench/console_pop.py): when the pop of an event
// is on the screen, the page notes the wall clock; the benchmark reads
// window.__popTimings.  rAF runs just before the frame is painted, a task
// queued from it runs after: then the pop (and, when answered, the order
// form) has been drawn.
function drawn(ev, receivedMs) {
  requestAnimationFrame(() => setTimeout(() => {
    (window.__popTimings ||= []).push({
      phase: ev.phase, uniqueid: ev.pop && ev.pop.uniqueid, ami_read_ms: ev.ami_read_ms,
      sent_ms: ev.sent_ms, received_ms: receivedMs, drawn_ms: Date.now(),
      form: !!document.querySelector("[data-testid=order-form]"),
    });
  }, 0));
}
