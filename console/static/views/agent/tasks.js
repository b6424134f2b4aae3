// Callbacks and 回访 in one list: dial where the task can be dialled, the
// reason where it cannot (no dead button), verdicts only when allowed.
import { html, useState, useLoad, useLiveEvent, Message, dateTime } from "../../lib/ui.js";
import { get, post } from "../../lib/api.js";
import { t, label } from "../../lib/i18n.js";

const RELOAD_ON = ["callback.requested", "callback.calling", "callback.answered", "callback.finished",
                   "callback.closed", "visit.answered", "visit.call_ended", "order.closed", "order.answered"];

export function Tasks() {
  const tasks = useLoad((signal) => get("/api/agent/tasks", { signal }));
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  for (const type of RELOAD_ON) useLiveEvent(type, () => tasks.reload());
  // What the agent's own dialling came to, in words.
  useLiveEvent("callback.answered", (ev) => setNotice(ev.order_number
    ? t("tasks.reached_draft", { number: ev.order_number }) : t("tasks.reached")));
  useLiveEvent("callback.finished", (ev) => {
    if (ev.result && ev.result !== "reached") setNotice(t("tasks.ended", { result: label("callback_result", ev.result) }));
  });
  useLiveEvent("visit.answered", () => setNotice(t("tasks.visit_reached")));
  useLiveEvent("visit.call_ended", (ev) => {
    if (ev.result && ev.result !== "reached") setNotice(t("tasks.ended", { result: label("callback_result", ev.result) }));
  });

  async function act(fn, done) {
    setError(null); setNotice(null);
    try { await fn(); setNotice(done); } catch (err) { setError(err); }
    tasks.reload();
  }
  const dial = (task) => act(() => post(task.kind === "visit"
    ? `/api/work-orders/${task.id}/visit/call` : `/api/callbacks/${task.id}/call`), t("tasks.dialing"));
  const verdict = (task, result) => act(() => post(`/api/work-orders/${task.id}/visit`, { result, note: "" }),
    t("tasks.saved"));

  const rows = (tasks.data && tasks.data.tasks) || [];
  return html`<div data-testid="tasks">
    <${Message} error=${error || tasks.error} notice=${notice} />
    ${rows.length === 0 && !tasks.loading && !tasks.error ? html`<p class="muted">${t("tasks.none")}</p>` : html`
    <table><thead><tr><th>${t("col.task")}</th><th>${t("col.caller")}</th><th>${t("col.attempts")}</th><th></th></tr></thead>
    <tbody>${rows.map((task) => html`<tr data-kind=${task.kind} data-id=${task.id}>
      <td><span class="pill">${label("kind", task.kind)}</span> ${label("task_status", task.status)}
        ${task.order ? html`<br /><small>${t("tasks.for_order", { number: task.order.number })} ${task.order.title || ""}</small>` : ""}
        <br /><small class="muted">${dateTime(task.created_at)}</small></td>
      <td>${task.caller_number}${task.caller_name ? html`<br /><small>${task.caller_name}</small>` : ""}</td>
      <td>${task.attempts}/${task.max_attempts}</td>
      <td>${task.can_dial
        ? html`<button onClick=${() => dial(task)} data-testid="dial">${t("tasks.dial")}</button>`
        : html`<small class="warn" data-testid="why-not">${label("why_not", task.why_not)}${task.next_try_at
            ? html`<br />${t("tasks.next_try", { time: dateTime(task.next_try_at, { date: false }) })}` : ""}</small>`}
        ${task.can_record_verdict ? html`<div class="row verdicts">${(task.verdicts || []).map((v) => html`
          <button class="ghost" onClick=${() => verdict(task, v)}>${label("verdict", v)}</button>`)}</div>` : ""}
      </td></tr>`)}</tbody></table>`}
  </div>`;
}
