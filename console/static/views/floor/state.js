// The floor's state: the snapshot's `floor`, then the floor.* events (and
// staffing alerts) applied to it.  Nothing is fetched: the server pushes.
import { useState, useEffect, useSnapshot, useLiveEvent } from "../../lib/ui.js";

function upsertAgent(agents, entry) {
  const rest = agents.filter((a) => a.agent_id !== entry.agent_id);
  if (entry.gone) return rest;  // off the shift and off the queues
  return [...rest, entry].sort((a, b) => String(a.number).localeCompare(String(b.number)));
}

function addAlert(alerts, alert) {
  if (alerts.some((a) => a.source === alert.source && a.id === alert.id)) return alerts;
  return [alert, ...alerts];
}

/** The live floor, and onAlert(alert) for each alert raised while mounted. */
export function useFloor(onAlert) {
  const snap = useSnapshot();
  const [floor, setFloor] = useState(null);
  useEffect(() => { if (snap && snap.floor) setFloor(snap.floor); }, [snap]);
  const change = (fn) => setFloor((f) => (f ? fn(f) : f));
  useLiveEvent("floor.queue", (e) => change((f) => ({ ...f, queues: { ...f.queues, [e.queue]: e.figures } })));
  useLiveEvent("floor.agent", (e) => change((f) => ({ ...f, agents: upsertAgent(f.agents, e.figures) })));
  useLiveEvent("floor.orders", (e) => change((f) => ({ ...f, orders: e.figures })));
  useLiveEvent("floor.trends", (e) => change((f) => ({ ...f, trends: e.figures })));
  useLiveEvent("floor.thresholds", (e) => change((f) => ((f.thresholds.version ?? 0) > e.version ? f
    : { ...f, thresholds: { ...e.thresholds, version: e.version } })));
  useLiveEvent("floor.alert", (e) => {
    const alert = { source: "floor", id: e.alert_id, kind: e.kind, key: e.key, detail: e.detail, raised_at: e.raised_at };
    change((f) => ({ ...f, alerts: addAlert(f.alerts, alert) }));
    if (onAlert) onAlert(alert);
  });
  useLiveEvent("staffing.alert", (e) => {
    const alert = { source: "staffing", id: e.alert_id, kind: e.kind, detail: e.detail,
                    raised_at: e.raised_at, agent_id: e.subject_agent_id };
    change((f) => ({ ...f, alerts: addAlert(f.alerts, alert) }));
    if (onAlert) onAlert(alert);
  });
  useLiveEvent("floor.alert_acked", (e) => change((f) => ({
    ...f, alerts: f.alerts.filter((a) => !(a.source === e.source && a.id === e.alert_id)) })));
  return floor;
}

/** Fraction as a percentage ("–" when there is nothing to count). */
export function pct(x) {
  return x == null ? "–" : `${Math.round(x * 1000) / 10}%`;
}

/** Centre-wide figures from the queues (service level over all calls offered). */
export function totals(queues) {
  const qs = Object.values(queues || {});
  const sum = (k) => qs.reduce((n, q) => n + (q[k] || 0), 0);
  const offered = sum("offered");
  const inSl = qs.reduce((n, q) => n + (q.service_level || 0) * (q.offered || 0), 0);
  const oldest = qs.map((q) => q.longest_since).filter(Boolean).sort()[0] || null;
  return { waiting: sum("waiting"), answered: sum("answered"), abandoned: sum("abandoned"), offered,
           service_level: offered ? inSl / offered : null,
           abandon_rate: offered ? sum("abandoned") / offered : null,
           callbacks: sum("callbacks_pending"), longest_since: oldest };
}
