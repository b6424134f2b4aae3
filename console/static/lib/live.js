// The console's one WebSocket (/api/ws; protocol in console/live.py): a
// snapshot, then numbered events.  It reconnects by itself and resumes with
// ?stream=S&after=N; when the server could not replay what was missed it
// sends a fresh snapshot with replay=false, and views reload what they show
// (subscribe with onResync).  Views subscribe to event types; nothing polls.
import { loggedOut } from "./api.js";

const handlers = new Map();     // type -> Set(fn); "*" gets every event
const snapshotHandlers = new Set();
const resyncHandlers = new Set();
const statusHandlers = new Set();
const state = { stream: null, seq: 0, retry: 1000, ws: null, connected: false,
                snapshot: null, closeReason: "", stopped: false, pinger: null };

export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  return () => handlers.get(type).delete(fn);
}
/** fn(state) with every snapshot's state (at once if one arrived already). */
export function onSnapshot(fn) {
  snapshotHandlers.add(fn);
  if (state.snapshot) fn(state.snapshot);
  return () => snapshotHandlers.delete(fn);
}
/** fn() when events were missed and what is shown must be reloaded. */
export function onResync(fn) { resyncHandlers.add(fn); return () => resyncHandlers.delete(fn); }
/** fn({connected, reason}) on every connect and disconnect. */
export function onStatus(fn) {
  statusHandlers.add(fn);
  fn({ connected: state.connected, reason: state.closeReason });
  return () => statusHandlers.delete(fn);
}
export function lastSnapshot() { return state.snapshot; }
export function isConnected() { return state.connected; }

function emitStatus() {
  for (const fn of statusHandlers) fn({ connected: state.connected, reason: state.closeReason });
}

function dispatch(event) {
  for (const key of [event.type, "*"]) {
    const set = handlers.get(key);
    if (!set) continue;
    for (const fn of set) {
      try { fn(event); } catch (err) { console.error("live handler failed", event.type, err); }
    }
  }
}

export function connect() {
  state.stopped = false;
  const resume = state.stream ? `?stream=${encodeURIComponent(state.stream)}&after=${state.seq}` : "";
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/api/ws" + resume);
  state.ws = ws;
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "hello" || event.type === "pong") return;
    if (event.type === "snapshot") {
      const resumed = state.stream !== null;
      state.stream = event.stream; state.seq = event.seq; state.retry = 1000;
      state.snapshot = event.state || {};
      state.connected = true; state.closeReason = "";
      emitStatus();
      for (const fn of snapshotHandlers) fn(state.snapshot);
      if (resumed && !event.replay) for (const fn of resyncHandlers) fn();
      return;
    }
    if (event.seq) state.seq = event.seq;
    dispatch(event);
  };
  ws.onopen = () => {
    clearInterval(state.pinger);
    state.pinger = setInterval(() => { if (ws.readyState === 1) ws.send("ping"); }, 25000);
  };
  ws.onclose = (e) => {
    clearInterval(state.pinger);
    state.connected = false;
    state.closeReason = e.reason || "";
    emitStatus();
    if (state.stopped) return;
    if (e.code === 4401) {  // the session ended (logout, an admin): the shell shows the login
      loggedOut();
      return;
    }
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 30000);
  };
}

export function disconnect() {
  state.stopped = true;
  if (state.ws) state.ws.close();
}
