// Callback tasks for supervisors (the classic page's callbacks panel): open,
// failed or done, the priority callers first; an open task closed by hand
// with a reason (an empty number, reached another way).  Reloaded by the
// callback events, never polled.
import { html, useState, useLoad, useLiveEvent, dateTime, Message } from "../../lib/ui.js";
import { get, post } from "../../lib/api.js";
import { t, label, messages } from "../../lib/i18n.js";

messages({
  "zh-CN": {
    "floor.cb.title": "回电任务", "floor.cb.hint": "优先来电人优先，其余按先后",
    "floor.cb.filter.open": "待回电", "floor.cb.filter.failed": "未接通（已尝试完）",
    "floor.cb.filter.done": "已完成", "floor.cb.caller": "来电", "floor.cb.category": "类别",
    "floor.cb.reason": "原因", "floor.cb.time": "时间", "floor.cb.attempts": "尝试",
    "floor.cb.status": "状态", "floor.cb.priority": "优先", "floor.cb.next": "{time} 后再拨",
    "floor.cb.close": "关闭", "floor.cb.close_note": "关闭原因（如：空号、已通过其他方式联系）",
    "floor.cb.confirm": "确认关闭", "floor.cb.cancel": "取消", "floor.cb.none": "没有任务",
    "floor.cb.closed": "已关闭",
    "callback_reason.abandoned": "排队放弃", "callback_reason.callback": "选择回电",
    "callback_reason.queued": "排队超时",
  },
  en: {
    "floor.cb.title": "Callbacks", "floor.cb.hint": "priority callers first, then oldest first",
    "floor.cb.filter.open": "To call back", "floor.cb.filter.failed": "Not reached (attempts used)",
    "floor.cb.filter.done": "Done", "floor.cb.caller": "Caller", "floor.cb.category": "Category",
    "floor.cb.reason": "Why", "floor.cb.time": "Time", "floor.cb.attempts": "Attempts",
    "floor.cb.status": "Status", "floor.cb.priority": "priority", "floor.cb.next": "next try {time}",
    "floor.cb.close": "Close", "floor.cb.close_note": "Why close it (an empty number, reached another way)",
    "floor.cb.confirm": "Close it", "floor.cb.cancel": "Cancel", "floor.cb.none": "No tasks",
    "floor.cb.closed": "Closed",
    "callback_reason.abandoned": "Abandoned in the queue", "callback_reason.callback": "Chose a callback",
    "callback_reason.queued": "Waited too long",
  },
});

const FILTERS = { open: "open,calling", failed: "failed", done: "done" };
// call.abandoned: published once the abandon and its task are committed.
const EVENTS = ["call.abandoned", "callback.requested", "callback.calling", "callback.finished",
                "callback.closed"];

function CloseForm({ task, onClosed, onCancel }) {
  const [note, setNote] = useState("");
  const [error, setError] = useState(null);
  async function close(e) {
    e.preventDefault();
    try {
      await post(`/api/callbacks/${task.id}/close`, { status: "failed", note: note.trim() });
      onClosed();
    } catch (err) { setError(err); }
  }
  return html`<form class="row" onSubmit=${close} data-testid="cb-close-form">
    <input name="note" required placeholder=${t("floor.cb.close_note")} value=${note}
           onInput=${(e) => setNote(e.target.value)} style="flex:1" />
    <button type="submit" disabled=${!note.trim()}>${t("floor.cb.confirm")}</button>
    <button type="button" class="ghost" onClick=${onCancel}>${t("floor.cb.cancel")}</button>
    <${Message} error=${error} />
  </form>`;
}

export function Callbacks() {
  const [filter, setFilter] = useState("open");
  const [closing, setClosing] = useState(null);
  const [notice, setNotice] = useState(null);
  const tasks = useLoad((signal) => get(`/api/callbacks?status=${FILTERS[filter]}&limit=50`, { signal }), [filter]);
  for (const type of EVENTS) useLiveEvent(type, () => tasks.reload());  // fixed list: hooks stay in order
  const rows = (tasks.data && tasks.data.callbacks) || [];
  return html`<div class="card" data-testid="floor-callbacks">
    <div class="row"><h2>${t("floor.cb.title")}</h2><span class="muted">${t("floor.cb.hint")}</span>
      <span class="spacer"></span>
      <select name="cb-filter" value=${filter} onChange=${(e) => { setFilter(e.target.value); setClosing(null); }} style="width:auto">
        ${Object.keys(FILTERS).map((f) => html`<option value=${f}>${t(`floor.cb.filter.${f}`)}</option>`)}
      </select></div>
    <${Message} error=${tasks.error} notice=${notice} />
    <table><thead><tr><th>${t("floor.cb.caller")}</th><th>${t("floor.cb.category")}</th><th>${t("floor.cb.reason")}</th>
      <th>${t("floor.cb.time")}</th><th>${t("floor.cb.attempts")}</th><th>${t("floor.cb.status")}</th><th></th></tr></thead>
    <tbody>${rows.length ? rows.map((task) => html`<tr data-task=${task.id}>
      <td>${task.caller_number}${task.priority ? html` <span class="pill warn">${t("floor.cb.priority")}</span>` : null}</td>
      <td>${label("category", task.category)}</td><td>${label("callback_reason", task.reason)}</td>
      <td>${dateTime(task.created_at, { date: false })}</td>
      <td>${task.attempts}/${task.max_attempts}${task.next_attempt_at
        ? html`<br /><small class="muted">${t("floor.cb.next", { time: dateTime(task.next_attempt_at, { date: false }) })}</small>` : null}</td>
      <td>${label("callback_status", task.status)}${task.status === "calling" && task.agent ? `（${task.agent}）` : ""}
        ${task.last_result ? html`<br /><small class="muted">${label("callback_result", task.last_result)}</small>` : null}</td>
      <td>${task.status === "open" && closing !== task.id
        ? html`<button class="ghost" onClick=${() => { setClosing(task.id); setNotice(null); }}>${t("floor.cb.close")}</button>` : null}</td>
    </tr>${closing === task.id ? html`<tr><td colspan="7"><${CloseForm} task=${task}
        onClosed=${() => { setClosing(null); setNotice(t("floor.cb.closed")); tasks.reload(); }}
        onCancel=${() => setClosing(null)} /></td></tr>` : null}`)
      : html`<tr><td colspan="7" class="muted">${t("floor.cb.none")}</td></tr>`}</tbody></table>
  </div>`;
}
